"""Opening the store: SQLite (WAL) file by default, any SQLAlchemy URL by option, migrated on open."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_PATH = Path(".dokja") / "dokja.db"


class StoreError(RuntimeError):
    """A store that cannot be opened as asked; one line naming it."""


def url_for(target: str | Path | None, *, create: bool = True) -> str:
    """A SQLAlchemy URL from a URL, a file path, or nothing (the default file).

    With ``create=False`` a missing SQLite file is an error, so read-only commands never leave a store behind."""
    if target is None:
        target = DEFAULT_PATH
    text = str(target)
    if "://" in text:
        return text
    path = Path(text)
    if path.is_dir():
        raise StoreError(f"{path}: is a folder; --db takes a SQLite file or a database URL")
    if not create and not path.exists():
        raise StoreError(f"no store at {path}; run `dokja init PROGRAMME.toml` first, or pass --db")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


UNWRITABLE = ("disk i/o error", "database or disk is full", "readonly database", "read-only", "no space left",
              "could not extend file", "disk full", "file is too large")


def _unwritable(context) -> StoreError | None:
    """A store that can no longer be written (disk full, a size limit, read-only) is one line naming it, not a
    driver's traceback; the transaction it ended is rolled back, so what was committed before stands."""
    detail = (str(context.original_exception).strip().splitlines() or [""])[0]
    if not any(mark in detail.lower() for mark in UNWRITABLE):
        return None
    url = context.engine.url.render_as_string(hide_password=True) if context.engine else "the store"
    return StoreError(f"the store {url} cannot be written ({detail}); this change was not recorded")


def migrate(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_store(target: str | Path | None = None, *, upgrade: bool = True,
               create: bool = True) -> sessionmaker[Session]:
    url = url_for(target, create=create)
    engine = create_engine(url)
    event.listen(engine, "handle_error", _unwritable)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if upgrade:
        try:
            migrate(engine)
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"cannot open the store {engine.url.render_as_string(hide_password=True)}: "
                             f"{detail}") from None
    return sessionmaker(engine, expire_on_commit=False)
