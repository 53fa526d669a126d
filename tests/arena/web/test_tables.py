"""The arena's migration creates exactly the tables the code maps."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dokja.arena import tables
from dokja.store import open_store


def test_migration_matches_the_arena_tables(sqlite_url):
    engine = open_store(sqlite_url).kw["bind"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.Base.metadata)
    arena = [d for d in diff if "arena_" in repr(d)]
    assert arena == []
    names = set(inspect(engine).get_table_names())
    assert {"arena_visitor", "arena_battle", "arena_answer", "arena_vote", "arena_counter"} <= names
