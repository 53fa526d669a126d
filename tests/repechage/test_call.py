"""A call after gates removed a team: applications in its dates, the student-member rule, the panel's votes, and
the selected applicant becoming a team."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from dokja.audit.log import entries
from dokja.programme.schema import Member
from dokja.repechage import Applicant, RepechageError, admitted, apply, decide_call, open_call, show, vote
from dokja.store import schema as db

from .conftest import kst

PANEL = ["r1", "r2", "r3", "r4", "r5"]
OPENS, CLOSES = dt.date(2026, 1, 23), dt.date(2026, 2, 12)
STUDENTS = (Member(name="Park", organisation="KAIST", role="student"), Member(name="Choi", role="lead"))
LOG = ("loss.csv", b"step,loss\n0,10.9\n1000,3.2\n")


def consortium(key="haneul", members=STUDENTS) -> Applicant:
    return Applicant(key=key, name=key.title(), name_ko="하늘", members=members, model=f"{key}-32b",
                     benchmarks={"mmlu_pro": 0.61, "aime_2025": 0.4})


def opened(sessions) -> int:
    with sessions.begin() as s:
        return open_call(s, "s1", OPENS, CLOSES, "a from-scratch model with its loss log", PANEL,
                         now=kst(2026, 1, 22, 10, 0))


def applied(sessions, call, applicant, day=kst(2026, 2, 1, 12, 0)) -> int:
    with sessions.begin() as s:
        return apply(s, call, applicant, LOG, day)


def votes(sessions, call, choices: dict, day=kst(2026, 2, 19, 10, 0)):
    with sessions.begin() as s:
        for reviewer, choice in choices.items():
            vote(s, call, reviewer, choice, day)


def test_a_call_needs_a_seat_left_empty(stage_store):
    full = stage_store(keep=2)
    with pytest.raises(RepechageError, match="keeps the 2 teams it planned"):
        opened(full)


def test_the_majority_selects_and_the_team_joins_the_store(stage_store):
    sessions = stage_store()
    call = opened(sessions)
    applied(sessions, call, consortium())
    applied(sessions, call, consortium("gamma"))  # the eliminated team applies again
    votes(sessions, call, {"r1": "haneul", "r2": "gamma", "r3": "gamma", "r4": "haneul"})
    votes(sessions, call, {"r2": "haneul", "r5": None}, day=kst(2026, 2, 19, 11, 0))  # r2 changes its vote
    with sessions.begin() as s:
        result = decide_call(s, call, kst(2026, 2, 20, 10, 0))
        team = s.scalar(select(db.Team).where(db.Team.key == "haneul"))
        assert result.selected == "haneul" and result.counts == {"haneul": 3, "gamma": 1} and result.nobody == 1
        assert {(m.name, m.role) for m in team.members} == {("Park", "student"), ("Choi", "lead")}
        assert admitted(s, call) == "haneul"
        view = show(s, call)
        kinds = [e.kind for e in entries(s)]
    assert view.outcome == result and view.votes["r2"] == "haneul"
    assert view.applicants[0].files == (("loss_log", "loss.csv", hashlib.sha256(LOG[1]).hexdigest(), len(LOG[1])),)
    assert kinds.count("repechage vote") == 6 and kinds.count("repechage decided") == 1
    assert kinds.count("repechage opened") == kinds.count("repechage applied") - 1 == 1
    with sessions.begin() as s, pytest.raises(RepechageError, match="was decided"):
        vote(s, call, "r1", "gamma", kst(2026, 2, 21))


def test_the_panel_may_select_nobody(stage_store):
    sessions = stage_store()
    call = opened(sessions)
    applied(sessions, call, consortium())
    votes(sessions, call, {"r1": "haneul", "r2": "haneul", "r3": None, "r4": None})  # r5 does not vote
    with sessions.begin() as s:
        result = decide_call(s, call, kst(2026, 2, 20))
        assert result.selected is None and admitted(s, call) is None
        assert s.scalar(select(db.Team).where(db.Team.key == "haneul")) is None
    assert result.reason.startswith("nobody: haneul has 2 vote(s)")


def test_an_eliminated_team_selected_comes_back_as_itself(stage_store):
    sessions = stage_store()
    call = opened(sessions)
    applied(sessions, call, consortium("gamma"))
    votes(sessions, call, dict.fromkeys(PANEL[:3], "gamma"))
    with sessions.begin() as s:
        assert decide_call(s, call, kst(2026, 2, 20)).selected == "gamma" and admitted(s, call) == "gamma"
        assert len(s.scalars(select(db.Team).where(db.Team.key == "gamma")).all()) == 1


NO_STUDENTS = (Member(name="Choi", role="lead"), Member(name="Han", role="industry"))


def test_the_student_member_rule(stage_store):
    sessions = stage_store()
    call = opened(sessions)
    with pytest.raises(RepechageError, match="'solo' has no student member"):
        applied(sessions, call, consortium("solo", NO_STUDENTS))


def test_the_student_member_rule_can_be_turned_off(stage_store):
    relaxed = stage_store(student_member=False)
    call = opened(relaxed)
    assert applied(relaxed, call, consortium("solo", NO_STUDENTS))


def test_who_may_apply_and_when(stage_store):
    sessions = stage_store()
    call = opened(sessions)
    with pytest.raises(RepechageError, match="team 'alpha' was not eliminated"):
        applied(sessions, call, consortium("alpha"))
    with pytest.raises(RepechageError, match="from 2026-01-23 to 2026-02-12 \\(KST\\), not on 2026-02-13"):
        applied(sessions, call, consortium(), day=kst(2026, 2, 13, 0, 0))
    assert applied(sessions, call, consortium(), day=kst(2026, 2, 12, 23, 59))  # the last minute, in Korea
    with pytest.raises(RepechageError, match="already applied"):
        applied(sessions, call, consortium())
    with sessions.begin() as s, pytest.raises(RepechageError, match="the panel votes after"):
        vote(s, call, "r1", "haneul", kst(2026, 2, 12, 12, 0))
    with sessions.begin() as s, pytest.raises(RepechageError, match="'x9' is not on the panel"):
        vote(s, call, "x9", "haneul", kst(2026, 2, 19))
    with sessions.begin() as s, pytest.raises(RepechageError, match="already has an undecided"):
        open_call(s, "s1", OPENS, CLOSES, "again", PANEL, now=kst(2026, 1, 22))
