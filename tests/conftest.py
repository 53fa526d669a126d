"""Shared fixtures: a fresh store per test (SQLite file, or a PostgreSQL schema), and real small models.

With ``DOKJA_TEST_STORE=postgresql`` every store the fixtures hand out is a fresh PostgreSQL schema (the SQLite
ones included), an unreachable server fails the test instead of skipping it, and only the tests that take a
store from a fixture are collected: the others open their own SQLite files and would run the same twice.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

PG_URL = os.environ.get("DOKJA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
ON_POSTGRESQL = os.environ.get("DOKJA_TEST_STORE", "sqlite") == "postgresql"
STORE_FIXTURES = {"sqlite_url", "store_url", "pg_url", "two_teams"}
CACHE = Path(os.environ.get("DOKJA_TEST_CACHE", Path(__file__).resolve().parent.parent / ".dokja"))


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL: keep the tests that take a store from a fixture, less ``store_url``'s PostgreSQL half,
    which the SQLite run has run already."""
    if not ON_POSTGRESQL:
        return
    keep, drop = [], []
    for item in items:
        uses_store = STORE_FIXTURES & set(getattr(item, "fixturenames", ()))
        repeated = getattr(item, "callspec", None) and item.callspec.params.get("store_url") == "postgresql"
        (keep if uses_store and not repeated else drop).append(item)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)


@pytest.fixture
def sqlite_url(tmp_path, request) -> str:
    """A SQLite file's URL; a PostgreSQL schema's under ``DOKJA_TEST_STORE=postgresql``."""
    if ON_POSTGRESQL:
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path / 'dokja.db'}"


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search path is a new, empty schema; dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # no server: say so rather than pass silently, and fail where it is required
        if ON_POSTGRESQL:
            pytest.fail(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite" and not ON_POSTGRESQL:
        return f"sqlite:///{tmp_path / 'dokja.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def cache() -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    return CACHE


@pytest.fixture(scope="session")
def smollm2_dir(cache) -> Path:
    """SmolLM2-135M-Instruct from its PyPI package, dequantised once into an HF directory."""
    from dokja.models import materialise_gguf, resolve

    return materialise_gguf(resolve("package:smollm2-135m-instruct", cache).path, cache)


@pytest.fixture(scope="session")
def smollm2_gguf(cache) -> Path:
    from dokja.models import resolve

    return Path(resolve("package:smollm2-135m-instruct", cache).path)


def stage_inputs(spec: dict, teams: dict[str, dict], refs: list[dict], *, user_source: str = "csv",
                 votes=(), decided_at: str = "2025-12-30T09:00:00Z"):
    """A `StageInputs` made by hand for the pure decision: `teams` maps id → {"scores": {suite: [item scores]},
    "expert", "user", optional "name", "name_ko", "target", "evidence"}; `refs` are reference dicts with
    published scores, or "scores": {suite: [item scores]} for references that were run."""
    from dokja.programme.schema import Programme
    from dokja.stage.records import (ArenaUsed, Evidence, ItemScore, ReferenceEntry, RunUsed, StageInputs,
                                     SuiteUsed, TeamEntry)

    programme = Programme.model_validate(spec)

    def runs(scores: dict) -> dict:
        return {s: RunUsed(run_id=n, suite=s, metric="acc", limit=None, num_fewshot=0, commitment="c" * 64,
                           config_hash="h" * 64, items=tuple(ItemScore(item=str(i), score=v)
                                                             for i, v in enumerate(values)))
                for n, (s, values) in enumerate(scores.items(), 1)}

    entries = tuple(TeamEntry(id=key, name=t.get("name", key.title()), name_ko=t.get("name_ko", ""),
                              target=t.get("target"), model=t.get("model", f"{key}-m"), model_sha256=None,
                              runs=runs(t["scores"]), expert=t["expert"], user=t.get("user"),
                              evidence=t.get("evidence", Evidence())) for key, t in teams.items())
    references = tuple(ReferenceEntry(name=r["name"], vendor=r.get("vendor", "V"), released=r["released"],
                                      published=r.get("published", {}), model=r.get("model"),
                                      runs=runs(r.get("scores", {}))) for r in refs)
    n_items = {s: max(len(v) for t in teams.values() for k, v in t["scores"].items() if k == s)
               for s in programme.suites.all}
    suites = tuple(SuiteUsed(id=s, title_en=s, component=programme.suites.component_of(s), metric="acc",
                             commitment="c" * 64, n_items=n_items[s]) for s in programme.suites.all)
    return StageInputs(programme=programme, programme_sha256="p" * 64, stage=programme.stages[0].id,
                       decided_at=decided_at, teams=entries, references=references, suites=suites,
                       user_source=user_source, arena=ArenaUsed(source="votes.csv", votes=tuple(votes))
                       if user_source == "arena" else None)


@pytest.fixture(scope="session")
def make_inputs():
    return stage_inputs


@pytest.fixture(scope="session")
def evaluate_stage():
    """`evaluate_stage(sessions, cache)`: every model of the first stage on every suite, as `dokja eval` does."""

    def run(sessions, cache):
        from dokja.harness.campaign import evaluate_models, stage_models
        from dokja.programme import Programme
        from dokja.registry import programme_row, stage_row

        with sessions.begin() as s:
            prow = programme_row(s)
            spec = Programme.model_validate(prow.config)
            models = stage_models(s, prow, stage_row(s, prow, None))
        evaluate_models(sessions, models, spec.suites.all, spec, cache_dir=cache)

    return run


def two_team_store(folder: Path, text: str, model_dir: Path, cache: Path, url: str | None = None):
    """A store at `folder` (or `url`) holding the programme `text` and teams alpha and beta, each submitting a
    copy of the model in `model_dir` to the first stage; returns its sessions."""
    from dokja.programme import load_programme
    from dokja.programme.schema import Team
    from dokja.registry import add_model, add_team, import_programme, programme_row, stage_row, submit
    from dokja.store import open_store

    (folder / "p.toml").write_text(text, encoding="utf-8")
    sessions = open_store(url or f"sqlite:///{folder / 'stage.db'}")
    with sessions.begin() as s:
        import_programme(s, load_programme(folder / "p.toml"), text, cache=cache)
        srow = stage_row(s, programme_row(s), None)
        for key in ("alpha", "beta"):
            add_team(s, Team.model_validate({"id": key, "name": key.title(), "members": [
                {"name": "Kim", "role": "lead"}, {"name": "Lee", "role": "student"}]}))
            add_model(s, f"{key}-model", str(model_dir), cache=cache)
            submit(s, key, srow, f"{key}-model")
    return sessions


@pytest.fixture(scope="session")
def make_two_teams():
    return two_team_store
