"""The grievance tables: decisions published, grievances with their rulings and evidence, and waivers.

Times are stored as naive UTC, as every table of the store; the package hands out aware datetimes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..store.schema import Base


class Publication(Base):
    """A decision made public: the grievance window opens then and closes at `deadline`."""

    __tablename__ = "publication"
    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), unique=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime)
    deadline: Mapped[dt.datetime] = mapped_column(DateTime)
    final_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Grievance(Base):
    """One eliminated team's grievance against a published decision, and where the office's rulings left it."""

    __tablename__ = "grievance"
    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    grounds_kind: Mapped[str] = mapped_column(String(32))
    grounds: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(32))
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    remedy_decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    publication: Mapped[Publication] = relationship()
    events: Mapped[list["GrievanceEvent"]] = relationship(order_by="GrievanceEvent.id")
    files: Mapped[list["GrievanceFile"]] = relationship(order_by="GrievanceFile.id")


class GrievanceEvent(Base):
    """One ruling of the office on a grievance: the action, the state it led to, and the written reason."""

    __tablename__ = "grievance_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    grievance_id: Mapped[int] = mapped_column(ForeignKey("grievance.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class GrievanceFile(Base):
    """An evidence file a team handed in with its grievance, kept whole with its SHA-256."""

    __tablename__ = "grievance_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    grievance_id: Mapped[int] = mapped_column(ForeignKey("grievance.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Waiver(Base):
    """An eliminated team saying it will not file against a publication."""

    __tablename__ = "grievance_waiver"
    __table_args__ = (UniqueConstraint("publication_id", "team_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publication.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    waived_at: Mapped[dt.datetime] = mapped_column(DateTime)
