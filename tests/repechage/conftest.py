"""A store whose stage s1 planned to keep three of three teams, and kept two: gamma failed the independence gate."""

from __future__ import annotations

import datetime as dt

import pytest

KST = dt.timezone(dt.timedelta(hours=9))


def spec(keep: int = 3, student_member: bool = True) -> dict:
    return {
        "name": "Repechage test", "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30", "keep": keep}],
        "suites": {"ministry": ["m"], "global_common": ["g"]}, "robustness": {"rounds": 0},
        "references": [{"name": "Frontier", "vendor": "V", "released": "2025-09-01", "scores": {"m": 0.8}}],
        "repechage": {"student_member": student_member},
        "teams": [{"id": k, "name": k.title(), "members": [{"name": "Kim", "role": "lead"},
                                                          {"name": "Lee", "role": "student"}]}
                  for k in ("alpha", "beta", "gamma")]}


def kst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=KST)


@pytest.fixture
def stage_store(store_url, make_inputs):
    """`stage_store(keep=3, student_member=True)`: sessions of a store with the decision recorded."""
    from dokja.programme.schema import Programme
    from dokja.registry import import_programme, programme_row, stage_row
    from dokja.stage import decide
    from dokja.stage.record import keep_decision
    from dokja.stage.records import Evidence, Ruling
    from dokja.store import open_store

    def make(keep: int = 3, student_member: bool = True):
        programme = spec(keep, student_member)
        teams = {"alpha": {"scores": {"m": [1, 1], "g": [1, 0]}, "expert": 30, "user": 20},
                 "beta": {"scores": {"m": [1, 0], "g": [0, 1]}, "expert": 25, "user": 15},
                 "gamma": {"scores": {"m": [1, 1], "g": [1, 1]}, "expert": 33, "user": 25,
                           "evidence": Evidence(ruling=Ruling(passed=False, note="encoder weights reused"))}}
        refs = [{"name": "Frontier", "released": dt.date(2025, 9, 1), "published": {"m": 0.8, "g": 0.8}}]
        inputs = make_inputs(programme, teams, refs)
        sessions = open_store(store_url)
        with sessions.begin() as s:
            import_programme(s, Programme.model_validate(programme), "name = 'Repechage test'")
            keep_decision(s, stage_row(s, programme_row(s), "s1"), inputs, decide(inputs))
        return sessions

    return make
