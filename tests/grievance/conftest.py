"""A store holding a real decision of stage s1 (three teams, one kept: beta and gamma eliminated), made by the
pure `decide` from hand-made inputs and recorded as the office records one."""

from __future__ import annotations

import datetime as dt

import pytest

from dokja.grievance import KST

SPEC = {
    "name": "Grievance test", "name_ko": "이의신청 시험",
    "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30", "keep": 1}],
    "suites": {"ministry": ["m"], "global_common": ["g"]},
    "references": [{"name": "Frontier", "vendor": "V", "released": "2025-09-01", "scores": {"m": 0.8, "g": 0.8}}],
    "robustness": {"rounds": 0},
    "teams": [{"id": key, "name": key.title(), "members": [{"name": "Kim", "role": "lead"},
                                                          {"name": "Lee", "role": "student"}]}
              for key in ("alpha", "beta", "gamma")],
}
TEAMS = {"alpha": {"scores": {"m": [1, 1, 0], "g": [1, 0, 1]}, "expert": 30, "user": 20},
         "beta": {"scores": {"m": [1, 0, 0], "g": [0, 0, 1]}, "expert": 25, "user": 15},
         "gamma": {"scores": {"m": [0, 0, 0], "g": [0, 1, 0]}, "expert": 20, "user": 10}}


def kst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=KST)


PUBLISHED = kst(2026, 1, 2, 15, 0)  # the window closes at 2026-01-12 24:00 KST


@pytest.fixture
def decided(store_url, make_inputs):
    """`decided(**overrides)`: sessions of a store whose stage s1 has one recorded decision."""
    from dokja.programme.schema import Programme
    from dokja.registry import import_programme, programme_row, stage_row
    from dokja.stage import decide
    from dokja.stage.record import keep_decision
    from dokja.store import open_store

    def make(spec: dict | None = None):
        spec = spec or SPEC
        sessions = open_store(store_url)
        refs = [{"name": "Frontier", "released": dt.date(2025, 9, 1), "published": {"m": 0.8, "g": 0.8}}]
        inputs = make_inputs(spec, TEAMS, refs)
        with sessions.begin() as s:
            import_programme(s, Programme.model_validate(spec), "name = 'Grievance test'")
            keep_decision(s, stage_row(s, programme_row(s), "s1"), inputs, decide(inputs))
        return sessions

    return make


@pytest.fixture
def published(decided):
    """The decision published at `PUBLISHED`."""
    from dokja.grievance import publish

    sessions = decided()
    with sessions.begin() as s:
        publish(s, "s1", PUBLISHED)
    return sessions
