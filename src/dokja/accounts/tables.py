"""The accounts tables: who may sign in, in which role, and the failed sign-ins that throttle guessing.

Failed attempts live in the store (not in a worker's memory), so the throttle survives a restart and every
worker of the site counts the same attempts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from ..store.schema import Base


class Account(Base):
    """An office, reviewer or team account; a reviewer account names the panel's reviewer key, a team account
    the team's key."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    team_key: Mapped[str | None] = mapped_column(String(64))
    reviewer_key: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class LoginFailure(Base):
    """One failed sign-in: the name tried and the address it came from (never the password tried)."""

    __tablename__ = "login_failure"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
