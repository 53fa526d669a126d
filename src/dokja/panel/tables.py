"""The panel tables: reviewers (people, so in the store rather than the programme file) with their
affiliations and declared conflicts, the office's dismissals, and per stage the draw, the scores and the
refused attempts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..store.schema import Base


class Reviewer(Base):
    """An outside expert; the public only ever sees the pseudonym ("R1", "R2"… in order of registration)."""

    __tablename__ = "panel_reviewer"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    affiliation: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    affiliations: Mapped[list["Affiliation"]] = relationship(cascade="all, delete-orphan", order_by="Affiliation.id")
    declared: Mapped[list["Declared"]] = relationship(cascade="all, delete-orphan", order_by="Declared.id")


class Affiliation(Base):
    """A past (or, without an end, ongoing) affiliation."""

    __tablename__ = "panel_affiliation"
    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("panel_reviewer.id"), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    started: Mapped[dt.date | None] = mapped_column(Date)
    ended: Mapped[dt.date | None] = mapped_column(Date)


class Declared(Base):
    """A conflict the reviewer declared with a team (by key: the team may register later)."""

    __tablename__ = "panel_declared"
    __table_args__ = (UniqueConstraint("reviewer_id", "team"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("panel_reviewer.id"), index=True)
    team: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)


class Dismissal(Base):
    """The office setting aside a reviewer–team conflict's reasons, with its own reason."""

    __tablename__ = "panel_dismissal"
    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("panel_reviewer.id"), index=True)
    team: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[list[Any]]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class PanelRound(Base):
    """A stage's panel: assigned with a seed, open for scores until the office closes it; the close keeps the
    `PanelScores` record whole, so reading it later gives the same bytes whatever changes afterwards."""

    __tablename__ = "panel_round"
    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), unique=True)
    seed: Mapped[int] = mapped_column(Integer)
    assigned_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Assignment(Base):
    __tablename__ = "panel_assignment"
    __table_args__ = (UniqueConstraint("stage_id", "reviewer_id", "team_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("panel_reviewer.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    probability: Mapped[float] = mapped_column(Float)


class Score(Base):
    """A reviewer's score of a team on one criterion; re-entered before close, it is replaced. The salt
    makes the logged commitment unguessable until the close reveals it."""

    __tablename__ = "panel_score"
    __table_args__ = (UniqueConstraint("stage_id", "reviewer_id", "team_id", "criterion"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("panel_reviewer.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    criterion: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    salt: Mapped[str] = mapped_column(String(32))
    commitment: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16), default="web")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Refusal(Base):
    """A score attempt refused (from a file: with its line), kept so the office sees what did not count."""

    __tablename__ = "panel_refusal"
    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    line: Mapped[int | None] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200))
    criterion: Mapped[str] = mapped_column(String(200))
    score: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    via: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
