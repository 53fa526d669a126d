"""provenance tables (fingerprints and verdicts)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('provenance_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('model_name', sa.String(length=200), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['model_id'], ['model.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_provenance_check_model_id', 'provenance_check', ['model_id'])
    op.create_index('ix_provenance_check_model_name', 'provenance_check', ['model_name'])
    op.create_table('provenance_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model_name', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('reviewer', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_provenance_note_model_name', 'provenance_note', ['model_name'])


def downgrade() -> None:
    op.drop_index('ix_provenance_note_model_name', table_name='provenance_note')
    op.drop_table('provenance_note')
    op.drop_index('ix_provenance_check_model_name', table_name='provenance_check')
    op.drop_index('ix_provenance_check_model_id', table_name='provenance_check')
    op.drop_table('provenance_check')
