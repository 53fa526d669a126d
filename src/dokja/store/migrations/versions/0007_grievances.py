"""decisions published, grievances, their events, evidence files and waivers

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('final_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], ),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_id')
    )
    op.create_index('ix_publication_stage_id', 'publication', ['stage_id'])
    op.create_table('grievance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('grounds_kind', sa.String(length=32), nullable=False),
    sa.Column('grounds', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('filed_at', sa.DateTime(), nullable=False),
    sa.Column('remedy_decision_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['publication_id'], ['publication.id'], ),
    sa.ForeignKeyConstraint(['remedy_decision_id'], ['decision.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_grievance_publication_id', 'grievance', ['publication_id'])
    op.create_table('grievance_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grievance_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grievance_id'], ['grievance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_grievance_event_grievance_id', 'grievance_event', ['grievance_id'])
    op.create_table('grievance_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grievance_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['grievance_id'], ['grievance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_grievance_file_grievance_id', 'grievance_file', ['grievance_id'])
    op.create_table('grievance_waiver',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('waived_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['publication_id'], ['publication.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('publication_id', 'team_id')
    )


def downgrade() -> None:
    op.drop_table('grievance_waiver')
    op.drop_index('ix_grievance_file_grievance_id', table_name='grievance_file')
    op.drop_table('grievance_file')
    op.drop_index('ix_grievance_event_grievance_id', table_name='grievance_event')
    op.drop_table('grievance_event')
    op.drop_index('ix_grievance_publication_id', table_name='grievance')
    op.drop_table('grievance')
    op.drop_index('ix_publication_stage_id', table_name='publication')
    op.drop_table('publication')
