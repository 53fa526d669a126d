"""The store: SQLAlchemy tables, sessions and Alembic migrations."""

from . import schema
from .db import open_store, url_for

__all__ = ["open_store", "schema", "url_for"]
