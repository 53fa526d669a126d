"""The arena's tables: visitors, battles, the two answers of each battle, one vote per battle, the counters
every worker of the site shares (rate limits, floods), and the running counts of the votes that the leaderboard
and the honesty tests are computed from without reading every vote.

Models are named by their registry name, as votes are exported and recomputed by name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint,
                        func)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..store.schema import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Visitor(Base):
    """A browser session: the cookie token, the address it first came from, and when its browser did the
    proof of work (``None``: not yet; a site that asks for one refuses that visitor's votes until then)."""

    __tablename__ = "arena_visitor"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    proven_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Battle(Base):
    """One prompt put to two anonymous models.

    ``probability`` is the chance its pair was drawn; ``weight`` its vote's weight, the inverse of that
    chance relative to uniform drawing (1 when every pair is equally likely).
    """

    __tablename__ = "arena_battle"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("arena_visitor.id"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    model_a: Mapped[str] = mapped_column(String(200))
    model_b: Mapped[str] = mapped_column(String(200))
    probability: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    category: Mapped[str] = mapped_column(String(32), default="general")
    language: Mapped[str] = mapped_column(String(8), default="en")
    stage: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    answers: Mapped[list["Answer"]] = relationship(order_by="Answer.side", lazy="selectin")
    vote: Mapped["Vote | None"] = relationship(back_populates="battle", uselist=False)


class Answer(Base):
    """What one side of a battle generated, and whether it finished."""

    __tablename__ = "arena_answer"
    __table_args__ = (UniqueConstraint("battle_id", "side"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("arena_battle.id"))
    side: Mapped[str] = mapped_column(String(1))
    text: Mapped[str] = mapped_column(Text, default="")
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    first_token_s: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    reveals_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Vote(Base):
    """The visitor's verdict; flagged votes are kept but left out of the ratings."""

    __tablename__ = "arena_vote"
    id: Mapped[int] = mapped_column(primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("arena_battle.id"), unique=True)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("arena_visitor.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    battle: Mapped[Battle] = relationship(back_populates="vote")


class Counter(Base):
    """Events per key in the window its first event opened, until ``until`` (epoch seconds); shared by every
    worker, so a limit hit on one holds on all, and after a restart. Closed windows are swept."""

    __tablename__ = "arena_counter"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    until: Mapped[float] = mapped_column(Float, index=True)


class Cell(Base):
    """Votes alike, summed (:class:`~dokja.arena.cells.CellCount`): per stage, ordered pair, outcome, view and
    standing, how many and their weights' sums in units of 2⁻³². Added to in the transaction that stores the
    votes and moved in the one that changes a visitor's flag, so it always equals a recount of the votes."""

    __tablename__ = "arena_cell"
    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_a: Mapped[str] = mapped_column(String(200), primary_key=True)
    model_b: Mapped[str] = mapped_column(String(200), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    flagged: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    reveals_identity: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    w: Mapped[int] = mapped_column(BigInteger, default=0)
    w2: Mapped[int] = mapped_column(BigInteger, default=0)


class Tally(Base):
    """One unit's votes (a visitor, ``v:ID``, or a subnet pooling its visitors, ``n:NET``) per ordered pair,
    outcome and whether they came too fast to read (:class:`~dokja.arena.honesty.UnitCount`): what the honesty
    tests need, added to in the transaction that stores the votes."""

    __tablename__ = "arena_tally"
    unit: Mapped[str] = mapped_column(String(80), primary_key=True)
    model_a: Mapped[str] = mapped_column(String(200), primary_key=True)
    model_b: Mapped[str] = mapped_column(String(200), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10), primary_key=True)
    quick: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class Unit(Base):
    """A unit's number of votes (only units with enough are judged), a visitor's subnet ("" for none), and a
    visitor's flag: the reasons its votes carry, empty when it is not flagged."""

    __tablename__ = "arena_unit"
    unit: Mapped[str] = mapped_column(String(80), primary_key=True)
    net: Mapped[str] = mapped_column(String(64), default="", index=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)


OUTCOMES = ("a", "b", "tie", "both_bad")
