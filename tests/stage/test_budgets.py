"""The programme's per-suite item counts and answer budgets: part of a run's settings, so the stage's runs are
made with them and a run made without them never stands in."""

from __future__ import annotations

import pytest
from sqlalchemy import select

PROGRAMME = """
name = "Budget test"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2025-12-30
keep = 1
[suites]
ministry = ["ko_math"]
global_common = ["kobest_copa"]
limit = 3
limits = { ko_math = 2 }
max_new_tokens = { ko_math = 6 }
[[references]]
name = "Frontier"
vendor = "V"
released = 2025-09-01
scores = { ko_math = 0.6, kobest_copa = 0.8 }
"""


def test_runs_follow_the_programmes_limits_and_budgets(tmp_path, smollm2_dir, cache, evaluate_stage, make_two_teams,
                                                      sqlite_url):
    from dokja.harness.campaign import evaluate_models, stage_models
    from dokja.programme import Programme
    from dokja.registry import programme_row, stage_row
    from dokja.stage import OfficeFiles, decide_stage
    from dokja.store import schema as db

    sessions = make_two_teams(tmp_path, PROGRAMME, smollm2_dir, cache, sqlite_url)
    evaluate_stage(sessions, cache)
    with sessions.begin() as s:
        runs = {(r.model.name, r.suite.key): dict(r.config) for r in s.scalars(select(db.Run))}
        answers = [r.detail for r in s.scalars(select(db.Result).join(db.Run).join(db.Suite)
                                                .where(db.Suite.key == "ko_math"))]
    assert runs[("alpha-model", "ko_math")]["limit"] == 2 and runs[("alpha-model", "ko_math")]["budget"] == 6
    assert runs[("alpha-model", "kobest_copa")]["limit"] == 3 and "budget" not in runs[("alpha-model", "kobest_copa")]
    assert answers and all(d["answer_tokens"] <= 6 for d in answers)  # the budget reached the model

    (tmp_path / "e.csv").write_text("team,expert\nalpha,20\nbeta,20\n")
    (tmp_path / "u.csv").write_text("team,user\nalpha,20\nbeta,10\n")
    files = OfficeFiles(expert=tmp_path / "e.csv", user=tmp_path / "u.csv")
    _, decision = decide_stage(sessions, None, files)
    assert all(t.suite_scores["ko_math"].n == 2 for t in decision.teams)

    with sessions.begin() as s:  # a later run with the suite's own budget is another run: the stage's stays
        prow = programme_row(s)
        spec = Programme.model_validate(prow.config)
        models = stage_models(s, prow, stage_row(s, prow, None))
    unbudgeted = spec.model_copy(update={"suites": spec.suites.model_copy(update={"max_new_tokens": {}})})
    evaluate_models(sessions, models, ["ko_math"], unbudgeted, cache_dir=cache)
    _, again = decide_stage(sessions, None, files, reason="again")
    assert [t.suite_scores for t in again.teams] == [t.suite_scores for t in decision.teams]


def test_overrides_must_name_the_stages_suites(tmp_path):
    from dokja.programme import ProgrammeError, load_programme

    path = tmp_path / "p.toml"
    path.write_text(PROGRAMME.replace("limits = { ko_math = 2 }", "limits = { ko_maths = 2 }"), encoding="utf-8")
    with pytest.raises(ProgrammeError, match="limits names ko_maths, not among the stage's suites"):
        load_programme(path)
    path.write_text(PROGRAMME.replace("max_new_tokens = { ko_math = 6 }", "max_new_tokens = { ko_math = 0 }"))
    with pytest.raises(ProgrammeError, match="max_new_tokens"):
        load_programme(path)
