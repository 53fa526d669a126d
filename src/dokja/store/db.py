"""Opening the store: SQLite (WAL) file by default, any SQLAlchemy URL by option, migrated on open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_PATH = Path(".dokja") / "dokja.db"


def url_for(target: str | Path | None) -> str:
    """A SQLAlchemy URL from a URL, a file path, or nothing (the default file)."""
    if target is None:
        target = DEFAULT_PATH
    text = str(target)
    if "://" in text:
        return text
    path = Path(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_store(target: str | Path | None = None, *, upgrade: bool = True) -> sessionmaker[Session]:
    url = url_for(target)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if upgrade:
        migrate(engine)
    return sessionmaker(engine, expire_on_commit=False)
