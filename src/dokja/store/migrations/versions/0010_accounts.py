"""office, reviewer and team accounts and login attempts

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=10), nullable=False),
        sa.Column('team_key', sa.String(length=64), nullable=True),
        sa.Column('reviewer_key', sa.String(length=64), nullable=True),
        sa.Column('password_hash', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'login_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_login_failure_name', 'login_failure', ['name'])
    op.create_index('ix_login_failure_address', 'login_failure', ['address'])
    op.create_index('ix_login_failure_at', 'login_failure', ['at'])


def downgrade() -> None:
    op.drop_table('login_failure')
    op.drop_table('account')
