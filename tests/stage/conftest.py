"""A store with one stage and two teams, alpha and beta, each submitting a copy of SmolLM2, evaluated for real on
the first items of two suites."""

from __future__ import annotations

import os

import pytest

ON_POSTGRESQL = os.environ.get("DOKJA_TEST_STORE", "sqlite") == "postgresql"

PROGRAMME = """
name = "Stage test"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2025-12-30
keep = {keep}
[suites]
ministry = ["kobbq"]
global_common = ["kobest_copa"]
global_individual = ["kobest_copa"]
limit = 3
[[references]]
name = "Frontier"
vendor = "V"
released = 2025-09-01
scores = {{ kobbq = 0.6, kobest_copa = 0.8 }}
"""


@pytest.fixture
def two_teams(tmp_path, smollm2_dir, cache, evaluate_stage, make_two_teams, request):
    """`two_teams(keep, extra)`: the store's sessions (a PostgreSQL schema under ``DOKJA_TEST_STORE=postgresql``),
    with `extra` TOML appended to the programme."""
    url = request.getfixturevalue("sqlite_url") if ON_POSTGRESQL else None

    def make(keep: int = 2, extra: str = "", evaluate: bool = True):
        sessions = make_two_teams(tmp_path, PROGRAMME.format(keep=keep) + extra, smollm2_dir, cache, url)
        if evaluate:
            evaluate_stage(sessions, cache)
        return sessions

    return make
