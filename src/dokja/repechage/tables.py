"""The repechage tables: calls, applicants with their evidence files, and the panel's votes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..store.schema import Base


class RepechageCall(Base):
    """A call for one more team after a stage lost more teams than it planned; its panel decides."""

    __tablename__ = "repechage_call"
    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"))
    opens: Mapped[dt.date] = mapped_column(Date)
    closes: Mapped[dt.date] = mapped_column(Date)
    requirements: Mapped[str] = mapped_column(Text)
    panel: Mapped[list[Any]] = mapped_column(JSON)
    seats: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    admitted_team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))


class RepechageApplicant(Base):
    """An eliminated team or a new consortium applying to a call, with its members and evidence."""

    __tablename__ = "repechage_applicant"
    __table_args__ = (UniqueConstraint("call_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("repechage_call.id"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    name_ko: Mapped[str] = mapped_column(String(200), default="")
    members: Mapped[list[Any]] = mapped_column(JSON)
    model: Mapped[str] = mapped_column(String(200))
    benchmarks: Mapped[dict[str, Any]] = mapped_column(JSON)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime)
    files: Mapped[list["RepechageFile"]] = relationship(order_by="RepechageFile.id")


class RepechageFile(Base):
    """An applicant's evidence file (the pre-training loss log, results), kept whole with its SHA-256."""

    __tablename__ = "repechage_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("repechage_applicant.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RepechageVote(Base):
    """A panel member's one vote in a call: an applicant, or nobody (no applicant)."""

    __tablename__ = "repechage_vote"
    __table_args__ = (UniqueConstraint("call_id", "reviewer"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("repechage_call.id"))
    reviewer: Mapped[str] = mapped_column(String(64))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("repechage_applicant.id"))
    cast_at: Mapped[dt.datetime] = mapped_column(DateTime)
