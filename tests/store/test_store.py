from sqlalchemy import inspect, text

from dokja.store import open_store

TABLES = {"programme", "stage", "team", "member", "model", "submission", "reference", "suite", "item", "run",
          "result", "decision", "audit_entry", "eval_chunk", "alembic_version"}


def test_migrations_create_every_table(store_url):
    sessions = open_store(store_url)
    engine = sessions.kw["bind"]
    assert TABLES <= set(inspect(engine).get_table_names())
    open_store(store_url)  # migrating again is a no-op
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar() == "0014"


def test_sqlite_default_uses_wal(tmp_path):
    sessions = open_store(tmp_path / "x.db")
    with sessions.kw["bind"].connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_migrated_schema_matches_the_orm(store_url):
    """Migrations and the ORM's tables agree: no table, column or index only one of them has."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from dokja.arena import tables  # noqa: F401  (the arena's tables)
    from dokja.accounts import tables as _accounts  # noqa: F401
    from dokja.cluster import tables as _cluster  # noqa: F401
    from dokja.grievance import tables as _grievance  # noqa: F401
    from dokja.panel import tables as _panel  # noqa: F401
    from dokja.provenance import tables as _provenance  # noqa: F401
    from dokja.repechage import tables as _repechage  # noqa: F401
    from dokja.resources import tables as _resources  # noqa: F401
    from dokja.store.schema import Base

    engine = open_store(store_url).kw["bind"]
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    structural = [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")]
    assert structural == [], structural
