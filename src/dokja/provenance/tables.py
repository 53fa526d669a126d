"""Provenance's tables: each check's verdict with its evidence, and the office's notes on a model."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from ..store.schema import Base


class ProvenanceCheck(Base):
    """One run of `dokja provenance check`: the verdict, per component, against the library of the day."""

    __tablename__ = "provenance_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("model.id"), index=True)
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    location: Mapped[str] = mapped_column(Text, default="")
    passed: Mapped[bool]
    summary: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]]
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class ProvenanceNote(Base):
    """A reviewer's note on a model's provenance; with a verdict it stands over the automatic one."""

    __tablename__ = "provenance_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    note: Mapped[str] = mapped_column(Text)
    passed: Mapped[bool | None]
    reviewer: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
