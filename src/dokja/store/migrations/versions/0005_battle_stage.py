"""battles carry the stage they were fought in

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('arena_battle') as batch:
        batch.add_column(sa.Column('stage', sa.String(length=64), nullable=False, server_default=''))
        batch.create_index('ix_arena_battle_stage', ['stage'])


def downgrade() -> None:
    with op.batch_alter_table('arena_battle') as batch:
        batch.drop_index('ix_arena_battle_stage')
        batch.drop_column('stage')
