"""The resources table: the ledger's entries, appended and never changed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from ..store.schema import Base


class LedgerEntry(Base):
    """One ledger entry (see `records.Entry`); amounts in GPUs, won or won per year, so won needs 64 bits."""

    __tablename__ = "resources_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    resource: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(10))
    effective: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    step: Mapped[str] = mapped_column(String(12))
    stage: Mapped[str | None] = mapped_column(String(64))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
