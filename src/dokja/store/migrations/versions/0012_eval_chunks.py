"""evaluation chunks and their leases, for distributed evaluation

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('eval_chunk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('item_keys', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('lease_holder', sa.String(length=200), nullable=True),
    sa.Column('lease_expires', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['run_id'], ['run.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('run_id', 'sha256')
    )
    op.create_index(op.f('ix_eval_chunk_run_id'), 'eval_chunk', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_eval_chunk_run_id'), table_name='eval_chunk')
    op.drop_table('eval_chunk')
