"""Accounts against a real store: argon2 hashes, the audit entry, the sign-in throttle, signed sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from dokja.accounts import (AccountError, SessionCookies, Throttle, Throttled, add_user, csrf_ok, find_user,
                            sign_in, users)
from dokja.accounts.tables import Account
from dokja.audit.log import entries
from dokja.programme.schema import Team
from dokja.registry import add_team
from dokja.store import open_store

NOW = dt.datetime(2026, 1, 5, 9, 0)
PASSWORD = "correct horse battery"


@pytest.fixture
def sessions(store_url):
    sessions = open_store(store_url)
    with sessions.begin() as s:
        add_team(s, Team.model_validate({"id": "hanbit", "name": "Team Hanbit", "members": [
            {"name": "Kim", "role": "lead"}, {"name": "Lee", "role": "student"}]}))
    return sessions


def test_added_user_is_hashed_with_argon2_and_logged_without_the_hash(sessions):
    with sessions.begin() as s:
        add_user(s, "office", "office", PASSWORD)
        add_user(s, "hanbit", "team", PASSWORD, team="hanbit")
        add_user(s, "r1", "reviewer", PASSWORD, reviewer="kim-reviewer")
    with sessions() as s:
        stored = s.scalar(select(Account.password_hash).where(Account.name == "office"))
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
        logged = [e for e in entries(s) if e.kind == "user added"]
        assert [e.subject for e in logged] == ["office", "hanbit", "r1"]
        assert logged[1].payload == {"role": "team", "team": "hanbit", "reviewer": None}
        assert all(PASSWORD not in str(e.payload) and "argon2" not in str(e.payload) for e in logged)
        assert [(u.name, u.role, u.team, u.reviewer) for u in users(s)] == [
            ("hanbit", "team", "hanbit", None), ("office", "office", None, None), ("r1", "reviewer", None,
                                                                                  "kim-reviewer")]


@pytest.mark.parametrize("name,role,kw,message", [
    ("Bad Name", "office", {}, "lower-case"),
    ("x", "judge", {}, "one of office, reviewer, team"),
    ("x", "team", {}, "needs --team"),
    ("x", "office", {"team": "hanbit"}, "needs --team"),
    ("x", "reviewer", {}, "--reviewer"),
    ("x", "team", {"team": "nobody"}, "no team 'nobody'"),
    ("x", "office", {"password": "short"}, "too short"),
])
def test_bad_accounts_are_refused_in_one_line(sessions, name, role, kw, message):
    kw = dict(kw)
    password = kw.pop("password", PASSWORD)
    with sessions.begin() as s, pytest.raises(AccountError, match=message):
        add_user(s, name, role, password, **kw)


def test_a_name_is_taken_once(sessions):
    with sessions.begin() as s:
        add_user(s, "office", "office", PASSWORD)
    with sessions.begin() as s, pytest.raises(AccountError, match="already exists"):
        add_user(s, "office", "office", PASSWORD)


def test_sign_in_and_the_throttle_per_account_survive_a_new_store_handle(sessions, store_url):
    with sessions.begin() as s:
        add_user(s, "office", "office", PASSWORD)
    throttle = Throttle(per_account=3, per_address=100, window=dt.timedelta(minutes=15))
    for minute in range(3):
        with pytest.raises(AccountError, match="Wrong name or password"):
            sign_in(sessions, "office", "guess", "10.0.0.1", NOW + dt.timedelta(minutes=minute), throttle)
    again = open_store(store_url)  # another worker, or the server restarted
    with pytest.raises(Throttled, match="15 minutes.*15분"):
        sign_in(again, "office", PASSWORD, "10.0.0.2", NOW + dt.timedelta(minutes=5), throttle)
    assert sign_in(again, "office", PASSWORD, "10.0.0.2", NOW + dt.timedelta(minutes=15, seconds=1),
                       throttle).role == "office"


def test_the_throttle_per_address_counts_unknown_names_too(sessions):
    throttle = Throttle(per_account=100, per_address=2)
    for name in ("a", "b"):
        with pytest.raises(AccountError, match="Wrong"):
            sign_in(sessions, name, "guess", "10.0.0.9", NOW, throttle)
    with sessions.begin() as s:
        add_user(s, "office", "office", PASSWORD)
    with pytest.raises(Throttled):
        sign_in(sessions, "office", PASSWORD, "10.0.0.9", NOW, throttle)
    assert sign_in(sessions, "office", PASSWORD, "10.0.0.10", NOW, throttle).name == "office"


def test_a_hash_with_old_parameters_is_upgraded_at_sign_in(sqlite_url):
    sessions = open_store(sqlite_url)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with sessions.begin() as s:
        add_user(s, "office", "office", PASSWORD, hasher=weak)
        before = s.scalar(select(Account.password_hash))
    sign_in(sessions, "office", PASSWORD, "127.0.0.1", NOW)
    with sessions() as s:
        after = s.scalar(select(Account.password_hash))
        assert after != before and not PasswordHasher().check_needs_rehash(after)
        assert find_user(s, "office").role == "office" and find_user(s, "nobody") is None


def test_session_cookies_are_signed_expire_and_carry_a_per_session_csrf_token():
    cookies = SessionCookies(b"s" * 32, max_age_s=3600)
    token = cookies.issue("office", now=1000)
    session = cookies.read(token, now=1000 + 3599)
    assert session.name == "office" and csrf_ok(session, session.csrf)
    assert cookies.read(token, now=1000 + 3601) is None, "expired"
    assert cookies.read(token[:-2] + "xx", now=1001) is None, "forged"
    assert SessionCookies(b"t" * 32).read(token, now=1001) is None, "another site's secret"
    other = cookies.read(cookies.issue("office", now=1000), now=1001)
    assert other.csrf != session.csrf and not csrf_ok(other, session.csrf)
    assert not csrf_ok(session, None) and not csrf_ok(None, session.csrf)
    assert cookies.read(cookies.issue(None, now=1000), now=1001).name is None
