"""The provenance tables come with the migrations, on SQLite and PostgreSQL, and go with the downgrade."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from dokja.store import open_store
from dokja.store.db import MIGRATIONS

TABLES = {"provenance_check", "provenance_note"}


def test_migration_creates_and_drops_the_provenance_tables(store_url):
    engine = open_store(store_url).kw["bind"]
    assert TABLES <= set(inspect(engine).get_table_names())
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0002")
    assert not TABLES & set(inspect(engine).get_table_names())
    open_store(store_url)
    assert TABLES <= set(inspect(engine).get_table_names())
