"""The store: SQLAlchemy tables, sessions and Alembic migrations."""

from . import schema
from .db import StoreError, open_store, url_for

__all__ = ["StoreError", "open_store", "schema", "url_for"]
