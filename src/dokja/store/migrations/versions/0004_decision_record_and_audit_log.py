"""decisions keep their inputs and hashes, and name what they supersede; the append-only audit log

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decision') as batch:
        batch.add_column(sa.Column('inputs', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('inputs_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_decision_supersedes', 'decision', ['supersedes_id'], ['id'])
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('leaf_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('audit_entry')
    with op.batch_alter_table('decision') as batch:
        batch.drop_constraint('fk_decision_supersedes', type_='foreignkey')
        batch.drop_column('supersedes_id')
        batch.drop_column('sha256')
        batch.drop_column('inputs_sha256')
        batch.drop_column('inputs')
