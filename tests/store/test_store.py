from sqlalchemy import inspect, text

from dokja.store import open_store

TABLES = {"programme", "stage", "team", "member", "model", "submission", "reference", "suite", "item", "run",
          "result", "decision", "alembic_version"}


def test_migrations_create_every_table(store_url):
    sessions = open_store(store_url)
    engine = sessions.kw["bind"]
    assert TABLES <= set(inspect(engine).get_table_names())
    open_store(store_url)  # migrating again is a no-op
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0003"


def test_sqlite_default_uses_wal(tmp_path):
    sessions = open_store(tmp_path / "x.db")
    with sessions.kw["bind"].connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
