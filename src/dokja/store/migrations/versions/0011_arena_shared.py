"""shared arena state: rate-limit and flood counters, visitor sessions

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'arena_counter',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('until', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'key'),
    )
    op.create_index('ix_arena_counter_until', 'arena_counter', ['until'])


def downgrade() -> None:
    op.drop_index('ix_arena_counter_until', table_name='arena_counter')
    op.drop_table('arena_counter')
