"""repechage calls, applicants and the panel's votes

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('repechage_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('opens', sa.Date(), nullable=False),
    sa.Column('closes', sa.Date(), nullable=False),
    sa.Column('requirements', sa.Text(), nullable=False),
    sa.Column('panel', sa.JSON(), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('admitted_team_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['admitted_team_id'], ['team.id'], ),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], ),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_repechage_call_stage_id', 'repechage_call', ['stage_id'])
    op.create_table('repechage_applicant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_ko', sa.String(length=200), nullable=False),
    sa.Column('members', sa.JSON(), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=False),
    sa.Column('benchmarks', sa.JSON(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['repechage_call.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id', 'key')
    )
    op.create_table('repechage_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['repechage_applicant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_repechage_file_applicant_id', 'repechage_file', ['applicant_id'])
    op.create_table('repechage_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=True),
    sa.Column('cast_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['repechage_applicant.id'], ),
    sa.ForeignKeyConstraint(['call_id'], ['repechage_call.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id', 'reviewer')
    )


def downgrade() -> None:
    op.drop_table('repechage_vote')
    op.drop_index('ix_repechage_file_applicant_id', table_name='repechage_file')
    op.drop_table('repechage_file')
    op.drop_table('repechage_applicant')
    op.drop_index('ix_repechage_call_stage_id', table_name='repechage_call')
    op.drop_table('repechage_call')
