"""when a visitor's browser did the arena's proof of work

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('arena_visitor', sa.Column('proven_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('arena_visitor') as batch:
        batch.drop_column('proven_at')
