"""A store with one stage and two teams, alpha and beta, each submitting a copy of SmolLM2, evaluated for real on
the first items of two suites."""

from __future__ import annotations

import pytest

from dokja.programme import load_programme
from dokja.programme.schema import Team
from dokja.registry import add_model, add_team, import_programme, programme_row, stage_row, submit
from dokja.store import open_store


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
def two_teams(tmp_path, smollm2_dir, cache, evaluate_stage):
    """`two_teams(keep, extra)`: the store's sessions, with `extra` TOML appended to the programme."""

    def make(keep: int = 2, extra: str = "", evaluate: bool = True):
        text = PROGRAMME.format(keep=keep) + extra
        (tmp_path / "p.toml").write_text(text, encoding="utf-8")
        sessions = open_store(f"sqlite:///{tmp_path / 'stage.db'}")
        with sessions.begin() as s:
            import_programme(s, load_programme(tmp_path / "p.toml"), text, cache=cache)
            srow = stage_row(s, programme_row(s), None)
            for key in ("alpha", "beta"):
                add_team(s, Team.model_validate({"id": key, "name": key.title(), "members": [
                    {"name": "Kim", "role": "lead"}, {"name": "Lee", "role": "student"}]}))
                add_model(s, f"{key}-model", str(smollm2_dir), cache=cache)
                submit(s, key, srow, f"{key}-model")
        if evaluate:
            evaluate_stage(sessions, cache)
        return sessions

    return make
