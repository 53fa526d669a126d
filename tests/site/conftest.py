"""A store with a programme, three teams, two decided stages (the first published), a sealed suite, and one
account per role; the site served over it through the real ASGI app."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from dokja.stage import decide
from dokja.stage.record import keep_decision

PASSWORD = "a long enough password"
CANARY = "DOKJA-CANARY-0badc0de-0000-4000-8000-000000000001"
SUITES = {"ministry": ["ko_math"], "global_common": ["en_math"], "global_individual": ["ko_knowledge"]}
SPEC = {"name": "Site test programme", "name_ko": "사이트 시험 사업", "disclosure": "public",
        "stages": [{"id": "stage-1", "name": "Stage 1", "name_ko": "1차 단계평가", "date": "2025-12-30", "keep": 1},
                   {"id": "stage-2", "name": "Stage 2", "name_ko": "2차 단계평가", "date": "2026-06-30", "keep": 1}],
        "suites": SUITES,
        "teams": [{"id": key, "name": name, "name_ko": ko, "members": [
            {"name": "Kim", "role": "lead", "organisation": f"{key} Labs"}, {"name": "Lee", "role": "student"}]}
            for key, name, ko in [("hanbit", "Team Hanbit", "한빛"), ("dasan", "Team Dasan", "다산"),
                                  ("nuri", "Team Nuri <b>누리</b>", "누리")]],
        "robustness": {"rounds": 0}, "panel": {"reviewers_per_team": 1}}
# each reviewer is free of conflict with exactly one team, so the draw (k = 1) is known
REVIEWERS = {"rev-a": "dasan", "rev-b": "nuri", "rev-c": "hanbit"}
REF = {"name": "Gemma 3 270M", "vendor": "Google", "released": dt.date(2025, 8, 14),
       "published": {s: 0.6 for group in SUITES.values() for s in group}}
LATER = {**REF, "name": "Gemma 4", "released": dt.date(2026, 3, 1)}
PUBLISHED_AT = dt.datetime(2026, 1, 2, 1, 0, tzinfo=dt.UTC)


def _team(correct: int, expert: float, user: float) -> dict:
    return {"scores": {s: [1.0] * correct + [0.0] * (20 - correct) for group in SUITES.values() for s in group},
            "expert": expert, "user": user}


TEAMS = {"hanbit": _team(14, 30.0, 20.0), "dasan": _team(10, 22.0, 15.0), "nuri": _team(8, 18.0, 10.0)}


def make_world(url: str, make_inputs, *, disclosure: str = "public", published_at: dt.datetime = PUBLISHED_AT):
    from dokja.accounts import add_user
    from sqlalchemy import select

    from dokja.grievance import publish
    from dokja.panel import assign_panel, register_reviewer
    from dokja.panel.reviewers import ReviewerEntry
    from dokja.programme import Programme
    from dokja.registry import import_programme, programme_row, stage_row
    from dokja.store import open_store
    from dokja.store import schema as db

    spec = {**SPEC, "disclosure": disclosure}
    sessions = open_store(url)
    teams = {k: {**v, "name": t["name"], "name_ko": t["name_ko"]} for t in spec["teams"]
             for k, v in TEAMS.items() if t["id"] == k}
    with sessions.begin() as s:
        import_programme(s, Programme.model_validate(spec))
        prow = programme_row(s)
        for stage in ("stage-1", "stage-2"):
            inputs = make_inputs(spec, teams, [REF, LATER]).model_copy(update={"stage": stage})
            keep_decision(s, stage_row(s, prow, stage), inputs, decide(inputs))
        suite = db.Suite(key="sealed_ko", title_en="Sealed", language="ko", category="knowledge",
                         kind="multiple_choice", metric="acc", sha256="c" * 64, meta={"sealed": {"canary": CANARY}})
        s.add(suite)
        s.flush()
        s.add(db.Item(suite_id=suite.id, key="q1", position=0, payload={"question": f"secret {CANARY}"}))
        for key in TEAMS:
            model = db.Model(name=f"{key}-m", kind="hf", location=f"models/{key}")
            s.add(model)
            s.flush()
            team_id = s.scalar(select(db.Team.id).where(db.Team.key == key))
            s.add(db.Submission(team_id=team_id, stage_id=stage_row(s, prow, "stage-1").id, model_id=model.id))
        for reviewer, free in REVIEWERS.items():
            register_reviewer(s, ReviewerEntry(key=reviewer, name=reviewer.title(), origin="domestic", conflicts=[
                {"team": t, "reason": "advises the team"} for t in TEAMS if t != free]))
    with sessions.begin() as s:
        assign_panel(s, "stage-1")
        publish(s, "stage-1", published_at)
    with sessions.begin() as s:
        add_user(s, "office", "office", PASSWORD)
        for team in ("dasan", "nuri"):
            add_user(s, team, "team", PASSWORD, team=team)
        for reviewer in REVIEWERS:
            add_user(s, reviewer, "reviewer", PASSWORD, reviewer=reviewer)
    return sessions


@pytest.fixture(scope="session")
def canary() -> str:
    return CANARY


@pytest.fixture(scope="module")
def world(tmp_path_factory, make_inputs):
    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'site.db'}"
    make_world(url, make_inputs)
    return url


@pytest.fixture(scope="module")
def site(world, tmp_path_factory):
    from dokja.site import SiteSettings, create_site

    settings = SiteSettings(bundles=tmp_path_factory.mktemp("bundles"), max_upload=64 * 1024,
                            clock=lambda: PUBLISHED_AT + dt.timedelta(days=3))
    app = create_site(world, preload=False, site=settings)
    with TestClient(app) as client:
        yield app


@pytest.fixture(scope="module")
def as_user(site):
    """``as_user(name)``: a client signed in as ``name`` (None: anonymous)."""
    return lambda name: client_for(site, name)


def client_for(app, name: str | None) -> TestClient:
    """A fresh browser: anonymous, or signed in as ``name`` through the sign-in form."""
    import re

    client = TestClient(app, follow_redirects=False)
    if name is not None:
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        done = client.post("/login", data={"csrf": csrf, "name": name, "password": PASSWORD})
        assert done.status_code == 303, done.text
    return client


def csrf_in(html: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture(scope="session")
def csrf_of():
    """``csrf_of(client)``: the CSRF token of the client's session, as its pages' forms carry it."""
    return lambda client, path="/login": csrf_in(client.get(path).text)
