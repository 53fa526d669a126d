"""The tables: what Dokja remembers between commands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, ForeignKey, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Programme(Base):
    __tablename__ = "programme"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_ko: Mapped[str] = mapped_column(String(200), default="")
    config: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    stages: Mapped[list["Stage"]] = relationship(back_populates="programme", order_by="Stage.date")


class Stage(Base):
    __tablename__ = "stage"
    __table_args__ = (UniqueConstraint("programme_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    name_ko: Mapped[str] = mapped_column(String(200), default="")
    date: Mapped[dt.date] = mapped_column(Date)
    keep: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="open")
    programme: Mapped[Programme] = relationship(back_populates="stages")


class Team(Base):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ko: Mapped[str] = mapped_column(String(200), default="")
    target: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    members: Mapped[list["Member"]] = relationship(back_populates="team", cascade="all, delete-orphan")


class Member(Base):
    __tablename__ = "member"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20))
    team: Mapped[Team] = relationship(back_populates="members")


class Model(Base):
    """A runnable checkpoint or endpoint; results attach to it, whoever submitted it."""

    __tablename__ = "model"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    chat: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Submission(Base):
    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("team_id", "stage_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"))
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    team: Mapped[Team] = relationship()
    model: Mapped[Model] = relationship()


class Reference(Base):
    """A frontier reference: a global model with a release date, runnable or with published scores."""

    __tablename__ = "reference"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id"))
    name: Mapped[str] = mapped_column(String(200))
    vendor: Mapped[str] = mapped_column(String(200))
    released: Mapped[dt.date] = mapped_column(Date)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("model.id"))
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(Text, default="")
    model: Mapped[Model | None] = relationship()


class Suite(Base):
    __tablename__ = "suite"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    title_en: Mapped[str] = mapped_column(String(200))
    title_ko: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    metric: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Item(Base):
    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("suite_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    suite_id: Mapped[int] = mapped_column(ForeignKey("suite.id"))
    key: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    payload: Mapped[dict[str, Any]]


class Run(Base):
    """One model on one suite under one configuration; finished items live in `result`."""

    __tablename__ = "run"
    __table_args__ = (UniqueConstraint("model_id", "suite_id", "config_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id"))
    suite_id: Mapped[int] = mapped_column(ForeignKey("suite.id"))
    config_hash: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), default="running")
    n_items: Mapped[int]
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    model: Mapped[Model] = relationship()
    suite: Mapped[Suite] = relationship()


class Result(Base):
    __tablename__ = "result"
    __table_args__ = (UniqueConstraint("run_id", "item_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("run.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    metrics: Mapped[dict[str, Any]]
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Decision(Base):
    """A stage decision with the inputs it was made from, both kept whole (canonical JSON hashed) so the
    report, a replay and `dokja verify` read the same numbers. Appended, never overwritten: a later decision
    of the stage names the one it supersedes."""

    __tablename__ = "decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"))
    data: Mapped[dict[str, Any]]
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    inputs_sha256: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class AuditEntry(Base):
    """One event that can change a result, appended in the same transaction as the change; its leaf hash
    (RFC 9162) is over the canonical JSON of kind, subject and payload, so the log is a Merkle tree."""

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]]
    leaf_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
