"""Accounts in the store: adding one (argon2 hash, logged), listing them, and signing in with a throttle.

The clock is always given (``now``, naive UTC as the store keeps it), so the throttle's window is testable.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from ..audit.log import append
from ..store import schema as db
from .tables import Account, LoginFailure

ROLES = ("office", "reviewer", "team")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 10
HASHER = PasswordHasher()


class AccountError(ValueError):
    """An account that cannot be added or a sign-in that is refused; one line."""


class Throttled(AccountError):
    """Too many failed sign-ins for this account or from this address, within the window."""

    def __init__(self, minutes: int):
        super().__init__(f"Too many failed sign-ins; try again in {minutes} minutes. "
                         f"로그인 실패가 너무 많습니다. {minutes}분 뒤 다시 시도하세요.")


@dataclass(frozen=True)
class Throttle:
    """At most ``per_account`` failures for one name and ``per_address`` from one address in ``window``."""

    per_account: int = 5
    per_address: int = 20
    window: dt.timedelta = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class User:
    """Who is signed in: a name, a role, and the team or reviewer the account stands for."""

    name: str
    role: str
    team: str | None = None
    reviewer: str | None = None


WRONG = AccountError("Wrong name or password. 이름 또는 비밀번호가 틀렸습니다.")


def _user(row: Account) -> User:
    return User(row.name, row.role, row.team_key, row.reviewer_key)


def add_user(session: Session, name: str, role: str, password: str, *, team: str | None = None,
             reviewer: str | None = None, hasher: PasswordHasher = HASHER) -> User:
    """Record an account with its password hashed (argon2id); logged "user added", without the hash."""
    if not NAME.match(name):
        raise AccountError(f"user name {name!r}: lower-case letters, digits, '.', '_' or '-', at most 64")
    if role not in ROLES:
        raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
    if (role == "team") != (team is not None) or (role == "reviewer") != (reviewer is not None):
        raise AccountError("a team account needs --team, a reviewer account --reviewer, and no other kind either")
    if team is not None and session.scalar(select(db.Team.id).where(db.Team.key == team)) is None:
        raise AccountError(f"no team {team!r} in the store")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if session.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise AccountError(f"user {name!r} already exists")
    row = Account(name=name, role=role, team_key=team, reviewer_key=reviewer, password_hash=hasher.hash(password))
    session.add(row)
    session.flush()
    append(session, "user added", name, {"role": role, "team": team, "reviewer": reviewer})
    return _user(row)


def users(session: Session) -> list[User]:
    return [_user(r) for r in session.scalars(select(Account).order_by(Account.name))]


def find_user(session: Session, name: str) -> User | None:
    row = session.scalar(select(Account).where(Account.name == name))
    return _user(row) if row else None


def _failures(session: Session, column, value: str, since: dt.datetime) -> int:
    return session.scalar(select(func.count()).select_from(LoginFailure)
                          .where(column == value, LoginFailure.at > since)) or 0


def sign_in(sessions: sessionmaker[Session], name: str, password: str, address: str, now: dt.datetime,
            throttle: Throttle = Throttle(), hasher: PasswordHasher = HASHER) -> User:
    """The account, if the password matches and neither it nor the address has failed too often lately.

    It keeps its own transactions, so a refused attempt is recorded even though it raises; a success
    rehashes a password whose hash parameters have changed."""
    name, address = name.strip().lower()[:64], address[:64]
    since = now - throttle.window
    with sessions.begin() as session:
        if (_failures(session, LoginFailure.name, name, since) >= throttle.per_account
                or _failures(session, LoginFailure.address, address, since) >= throttle.per_address):
            raise Throttled(int(throttle.window.total_seconds() // 60))
        row = session.scalar(select(Account).where(Account.name == name))
        if _matches(hasher, row, password):
            if hasher.check_needs_rehash(row.password_hash):  # the parameters changed since it was hashed
                row.password_hash = hasher.hash(password)
            session.execute(delete(LoginFailure).where(LoginFailure.at <= since))
            return _user(row)
        session.add(LoginFailure(name=name, address=address, at=now))
    raise WRONG


def _matches(hasher: PasswordHasher, row: Account | None, password: str) -> bool:
    """Whether the password is the account's; as slow for a name that does not exist, so timing tells nothing."""
    try:
        hasher.verify(row.password_hash if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return False
    return row is not None


_DUMMY = HASHER.hash("not a password of anyone")
