"""The resources tables."""

from __future__ import annotations

from ..store.schema import Base  # noqa: F401
