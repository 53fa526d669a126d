"""What the evaluation cost: per-item measures summed per team and suite, and shown in the report."""

from __future__ import annotations

import pytest

from dokja.report import render_stage_report
from dokja.report.cost import Cost, cost_view, item_cost, run_cost

PROGRAMME = """
name = "Cost test"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2025-12-30
keep = 1
[suites]
ministry = ["ko_math"]
global_common = ["kobest_copa"]
global_individual = ["kobest_copa"]
limit = 2
[[references]]
name = "Frontier"
vendor = "V"
released = 2025-09-01
scores = { ko_math = 0.6, kobest_copa = 0.8 }
"""


def test_an_item_costs_its_own_measures_or_its_samples_sum():
    assert item_cost({"logprobs": [-1.0]}) == Cost(items=1)
    one = item_cost({"output": "4", "prompt_tokens": 30, "answer_tokens": 5, "seconds": 0.5})
    assert one == Cost(items=1, measured=1, prompt_tokens=30, answer_tokens=5, seconds=0.5)
    sampled = item_cost({"samples": [{"prompt_tokens": 30, "reasoning_tokens": 7, "answer_tokens": 3, "seconds": 1},
                                     {"prompt_tokens": 30, "answer_tokens": 4, "seconds": 2}]})
    assert sampled == Cost(items=1, measured=1, prompt_tokens=60, reasoning_tokens=7, answer_tokens=7, seconds=3.0)
    assert sampled.tokens == 74
    assert item_cost({"prompt_tokens": True, "seconds": "1"}) == Cost(items=1)  # not numbers: not measures
    assert run_cost([None, {"seconds": 1.5}, {"seconds": 0.5}]) == Cost(items=3, measured=2, seconds=2.0)


def test_the_report_shows_what_each_team_spent(tmp_path, smollm2_dir, cache, evaluate_stage, make_two_teams):
    from dokja.stage import OfficeFiles, decide_stage
    from dokja.store import schema as db

    sessions = make_two_teams(tmp_path, PROGRAMME, smollm2_dir, cache)
    evaluate_stage(sessions, cache)
    (tmp_path / "e.csv").write_text("team,expert\nalpha,20\nbeta,20\n")
    (tmp_path / "u.csv").write_text("team,user\nalpha,20\nbeta,10\n")
    number, decision = decide_stage(sessions, None, OfficeFiles(expert=tmp_path / "e.csv", user=tmp_path / "u.csv"))
    with sessions.begin() as s:
        costs = cost_view(s, s.get(db.Decision, number))
    assert [c.team for c in costs] == ["alpha", "beta"]
    for c in costs:
        maths, copa = c.suites["ko_math"], c.suites["kobest_copa"]
        assert maths.items == maths.measured == 2  # generated answers: tokens and time per item
        assert maths.prompt_tokens > 0 and maths.answer_tokens > 0 and maths.seconds > 0
        assert copa.items == 2 and copa.measured == 0  # log-likelihood: counted, not timed
        points = {t.id: t.points.benchmark for t in decision.teams}[c.team]
        assert c.benchmark_points == pytest.approx(points)
        if points:
            assert c.seconds_per_point == pytest.approx(maths.seconds / points)
    html = render_stage_report(decision.model_dump(mode="json"), cost=costs)
    assert 'id="cost"' in html and "평가 비용" in html and f"{costs[0].total.prompt_tokens:,}" in html
    assert 'id="cost"' not in render_stage_report(decision.model_dump(mode="json"))
