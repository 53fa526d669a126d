"""the expert panel: reviewers, conflicts, assignments, scores

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

NOW = sa.text('(CURRENT_TIMESTAMP)')


def upgrade() -> None:
    op.create_table('panel_reviewer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('pseudonym', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('affiliation', sa.String(length=200), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=NOW, nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    sa.UniqueConstraint('pseudonym')
    )
    op.create_table('panel_affiliation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('started', sa.Date(), nullable=True),
    sa.Column('ended', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['reviewer_id'], ['panel_reviewer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_panel_affiliation_reviewer_id', 'panel_affiliation', ['reviewer_id'])
    op.create_table('panel_declared',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['panel_reviewer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reviewer_id', 'team')
    )
    op.create_index('ix_panel_declared_reviewer_id', 'panel_declared', ['reviewer_id'])
    op.create_table('panel_dismissal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['panel_reviewer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_panel_dismissal_reviewer_id', 'panel_dismissal', ['reviewer_id'])
    op.create_table('panel_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), server_default=NOW, nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('record', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stage_id')
    )
    op.create_table('panel_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['panel_reviewer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stage_id', 'reviewer_id', 'team_id')
    )
    op.create_index('ix_panel_assignment_stage_id', 'panel_assignment', ['stage_id'])
    op.create_table('panel_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('criterion', sa.String(length=64), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('updated_at', sa.DateTime(), server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['panel_reviewer.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('stage_id', 'reviewer_id', 'team_id', 'criterion')
    )
    op.create_index('ix_panel_score_stage_id', 'panel_score', ['stage_id'])
    op.create_table('panel_refusal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=True),
    sa.Column('reviewer', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('criterion', sa.String(length=200), nullable=False),
    sa.Column('score', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=NOW, nullable=False),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_panel_refusal_stage_id', 'panel_refusal', ['stage_id'])


def downgrade() -> None:
    for table in ('panel_refusal', 'panel_score', 'panel_assignment', 'panel_round', 'panel_dismissal',
                  'panel_declared', 'panel_affiliation', 'panel_reviewer'):
        op.drop_table(table)
