"""A store of the release that gave battles their stage (0005), with an arena in it, upgraded to head: the rows
are kept, the shared counters work, and the schema is the ORM's (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from dokja.store import open_store
from dokja.store.db import MIGRATIONS

ROWS = [
    "INSERT INTO arena_visitor (id, token, address) VALUES (1, 'tok.en', '127.0.0.1')",
    "INSERT INTO arena_battle (id, key, visitor_id, prompt, model_a, model_b, probability, weight, category, "
    "language, stage, created_at) VALUES (1, 'k1', 1, 'hello', 'm1', 'm2', 1.0, 1.0, 'general', 'en', 's1', "
    "'2025-12-01 10:00:00')",
    "INSERT INTO arena_answer (battle_id, side, text, finished, tokens, reveals_identity) VALUES "
    "(1, 'a', 'one', true, 1, false), (1, 'b', 'two', true, 1, false)",
    "INSERT INTO arena_vote (battle_id, visitor_id, outcome, created_at, flagged, reasons) VALUES "
    "(1, 1, 'a', '2025-12-01 10:05:00', false, '[]')",
]


def every_tables_module() -> None:
    """Import each package's ``tables.py``, so the ORM side of the comparison holds every table."""
    import dokja

    for package in pkgutil.iter_modules(dokja.__path__):
        if importlib.util.find_spec(f"dokja.{package.name}.tables") if package.ispkg else None:
            importlib.import_module(f"dokja.{package.name}.tables")


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def test_a_0005_store_with_votes_upgrades_to_head(store_url):
    every_tables_module()
    from dokja.arena.service import votes_from_store
    from dokja.arena.web.shared import StoreCounters, Take
    from dokja.store.schema import Base

    engine = create_engine(store_url)
    cfg = config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    assert "arena_counter" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement))
    engine.dispose()

    sessions = open_store(store_url)  # migrates on open
    engine = sessions.kw["bind"]
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert version == ScriptDirectory.from_config(cfg).get_current_head()
    assert [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")] == []
    with sessions.begin() as session:
        [record] = votes_from_store(session)
    assert (record.model_a, record.model_b, record.outcome, record.stage) == ("m1", "m2", "a", "s1")
    counters = StoreCounters(engine)
    take = Take("votes_per_visitor", "tok.en", 1, 60.0)
    assert counters.take([take]) == [True] and counters.take([take]) == [False]
