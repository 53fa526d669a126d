"""running counts of the arena's votes: cells for the leaderboard, tallies and flags for the honesty tests

The counts are back-filled from the votes already stored, with this release's rules written out here
(weights in units of 2**-32, the /24 or /48 subnet, "too fast" under 3 s), so the migration does what it did
whatever the code becomes later.

Revision ID: 0014
Revises: 0013
"""
import ipaddress

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

UNIT = 1 << 32
MIN_SECONDS = 3.0
CHUNK = 10_000


def upgrade() -> None:
    op.create_table(
        'arena_cell',
        sa.Column('stage', sa.String(length=64), nullable=False),
        sa.Column('model_a', sa.String(length=200), nullable=False),
        sa.Column('model_b', sa.String(length=200), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('category', sa.String(length=32), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('flagged', sa.Boolean(), nullable=False),
        sa.Column('reveals_identity', sa.Boolean(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('w', sa.BigInteger(), nullable=False),
        sa.Column('w2', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('stage', 'model_a', 'model_b', 'outcome', 'category', 'language', 'flagged',
                                'reveals_identity'),
    )
    op.create_table(
        'arena_tally',
        sa.Column('unit', sa.String(length=80), nullable=False),
        sa.Column('model_a', sa.String(length=200), nullable=False),
        sa.Column('model_b', sa.String(length=200), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('quick', sa.Boolean(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('unit', 'model_a', 'model_b', 'outcome', 'quick'),
    )
    op.create_table(
        'arena_unit',
        sa.Column('unit', sa.String(length=80), nullable=False),
        sa.Column('net', sa.String(length=64), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('flagged', sa.Boolean(), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('unit'),
    )
    op.create_index('ix_arena_unit_net', 'arena_unit', ['net'])
    op.create_index('ix_arena_unit_n', 'arena_unit', ['n'])
    op.create_index('ix_arena_unit_flagged', 'arena_unit', ['flagged'])
    _backfill(op.get_bind())


def downgrade() -> None:
    op.drop_index('ix_arena_unit_flagged', table_name='arena_unit')
    op.drop_index('ix_arena_unit_n', table_name='arena_unit')
    op.drop_index('ix_arena_unit_net', table_name='arena_unit')
    op.drop_table('arena_unit')
    op.drop_table('arena_tally')
    op.drop_table('arena_cell')


def _net(address):
    """The /24 or /48 a visitor's votes pool into; "" for none (no address, unreadable, loopback)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return ""
    if ip.is_loopback or ip.is_unspecified:
        return ""
    ip = ipaddress.ip_address(str(ip).split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 48}", strict=False))


def _votes(conn):
    """Every vote with its cell, its timing and its visitor's address and flag, in chunks."""
    vote = sa.table('arena_vote', sa.column('id', sa.Integer), sa.column('battle_id', sa.Integer),
                    sa.column('visitor_id', sa.Integer), sa.column('outcome', sa.String),
                    sa.column('created_at', sa.DateTime), sa.column('flagged', sa.Boolean),
                    sa.column('reasons', sa.JSON))
    battle = sa.table('arena_battle', sa.column('id', sa.Integer), sa.column('stage', sa.String),
                      sa.column('model_a', sa.String), sa.column('model_b', sa.String),
                      sa.column('category', sa.String), sa.column('language', sa.String),
                      sa.column('weight', sa.Float), sa.column('created_at', sa.DateTime))
    answer = sa.table('arena_answer', sa.column('battle_id', sa.Integer), sa.column('side', sa.String),
                      sa.column('finished_at', sa.DateTime), sa.column('reveals_identity', sa.Boolean))
    visitor = sa.table('arena_visitor', sa.column('id', sa.Integer), sa.column('address', sa.String))
    a, b = answer.alias('answer_a'), answer.alias('answer_b')
    query = (sa.select(vote.c.visitor_id, vote.c.outcome, vote.c.created_at, vote.c.flagged, vote.c.reasons,
                       battle.c.stage, battle.c.model_a, battle.c.model_b, battle.c.category, battle.c.language,
                       battle.c.weight, battle.c.created_at, a.c.finished_at, b.c.finished_at,
                       a.c.reveals_identity, b.c.reveals_identity, visitor.c.address)
             .join(battle, battle.c.id == vote.c.battle_id)
             .outerjoin(visitor, visitor.c.id == vote.c.visitor_id)
             .join(a, sa.and_(a.c.battle_id == battle.c.id, a.c.side == 'a'))
             .join(b, sa.and_(b.c.battle_id == battle.c.id, b.c.side == 'b'))
             .order_by(vote.c.id))
    yield from conn.execute(query).partitions(CHUNK)


def _backfill(conn) -> None:
    cells, tallies, units = {}, {}, {}
    for chunk in _votes(conn):
        for (visitor, outcome, created, flagged, reasons, stage, model_a, model_b, category, language, weight,
             opened, done_a, done_b, reveal_a, reveal_b, address) in chunk:
            key = (stage, model_a, model_b, outcome, category, language, bool(flagged), bool(reveal_a or reveal_b))
            sums = cells.setdefault(key, [0, 0, 0])
            sums[0] += 1
            sums[1] += round(weight * UNIT)
            sums[2] += round(weight * weight * UNIT)
            ready = max(done_a, done_b) if done_a and done_b else opened
            quick = max((created - ready).total_seconds(), 0.0) < MIN_SECONDS
            net = _net(address)
            mine = units.setdefault(f"v:{visitor}", [0, net, False, []])
            mine[0] += 1
            if flagged:
                mine[2:] = [True, list(reasons or [])]
            for unit in (f"v:{visitor}", f"n:{net}" if net else None):
                if unit:
                    tallies[unit, model_a, model_b, outcome, quick] = tallies.get(
                        (unit, model_a, model_b, outcome, quick), 0) + 1
                    if unit.startswith("n:"):
                        units.setdefault(unit, [0, "", False, []])[0] += 1
    _insert(conn, 'arena_cell', [dict(zip(('stage', 'model_a', 'model_b', 'outcome', 'category', 'language',
                                           'flagged', 'reveals_identity'), k), n=n, w=w, w2=w2)
                                  for k, (n, w, w2) in cells.items()])
    _insert(conn, 'arena_tally', [dict(zip(('unit', 'model_a', 'model_b', 'outcome', 'quick'), k), n=n)
                                   for k, n in tallies.items()])
    _insert(conn, 'arena_unit', [{'unit': u, 'n': n, 'net': net, 'flagged': f, 'reasons': r}
                                  for u, (n, net, f, r) in units.items()])


def _insert(conn, name: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = [sa.column(c, sa.JSON if c == 'reasons' else None) for c in rows[0]]
    table = sa.table(name, *columns)
    for start in range(0, len(rows), CHUNK):
        conn.execute(table.insert(), rows[start:start + CHUNK])
