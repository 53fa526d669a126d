"""The arena's migration creates exactly the tables the code maps."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dokja.arena import tables
from dokja.store import open_store


def test_migration_matches_the_arena_tables(sqlite_url):
    engine = open_store(sqlite_url).kw["bind"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.Base.metadata)
    arena = [d for d in diff if "arena_" in repr(d)]
    assert arena == []
    with engine.connect() as conn:
        names = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").scalars())
    assert {"arena_visitor", "arena_battle", "arena_answer", "arena_vote"} <= names
