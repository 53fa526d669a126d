"""The chunk table: the evaluation's work, cut into chunks that workers lease from the store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from ..store.schema import Base

PENDING, LEASED, DONE = "pending", "leased", "done"


class EvalChunk(Base):
    """A run's items scored together in one transaction. The hash (the run's config hash and the chunk's item
    keys) is unique within the run, so a chunk is planned once; a lease names its holder and when it lapses,
    so a worker that dies gives its chunk back by not renewing it."""

    __tablename__ = "eval_chunk"
    __table_args__ = (UniqueConstraint("run_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    item_keys: Mapped[list[Any]]
    state: Mapped[str] = mapped_column(String(10), default=PENDING)
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    lease_expires: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
