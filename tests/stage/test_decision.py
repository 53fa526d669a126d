"""The pure decision: per-item scores → ratios to the eligible frontier → points → gates → ranking."""

import datetime as dt

import pytest

from dokja.stage import Finding, StageError, decide
from dokja.stage.records import Evidence, Ruling

SPEC = {"name": "P", "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30", "keep": 2}],
        "suites": {"ministry": ["m"], "global_common": ["g1", "g2"], "global_individual": ["i"]},
        "gates": {"safety_suite": "m", "safety_min_score": 0.3}}
NEW = {"name": "New", "released": dt.date(2025, 8, 14), "published": {"m": 0.8, "g1": 0.5, "g2": 0.4, "i": 0.6}}
OLD = {"name": "Old", "released": dt.date(2024, 11, 1), "published": {"m": 0.9, "g1": 0.9, "g2": 0.9, "i": 0.9}}


def items(p: float, n: int = 20) -> list[float]:
    ones = round(p * n)
    return [1.0] * ones + [0.0] * (n - ones)


def team(scores, expert=30.0, user=20.0, **kw):
    return {"scores": {k: items(v) for k, v in scores.items()}, "expert": expert, "user": user, "target": "New", **kw}


ALL = {"m": 0.8, "g1": 0.5, "g2": 0.4, "i": 0.6}


def test_old_reference_outside_window_does_not_set_the_frontier(make_inputs):
    d = decide(make_inputs(SPEC, {"a": team(ALL)}, [NEW, OLD]))
    assert {f.name: f.eligible for f in d.frontier} == {"New": True, "Old": False}
    assert "before the window opened on 2025-06-30" in d.frontier[1].reason
    assert {s.frontier_best.name for s in d.suites} == {"New"}


def test_points_follow_ratios_to_the_frontier(make_inputs):
    d = decide(make_inputs(SPEC, {"a": team({"m": 0.4, "g1": 0.5, "g2": 0.2, "i": 0.3})}, [NEW, OLD]))
    t = d.teams[0]
    assert t.points.ministry == pytest.approx(10 * 0.4 / 0.8)
    assert t.points.global_common == pytest.approx(20 * (1.0 + 0.5) / 2)
    assert t.points.global_individual == pytest.approx(10 * 0.3 / 0.6)
    assert t.total == pytest.approx(t.points.benchmark + 30 + 20)
    assert t.frontier_ratio == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert t.meets_target is False
    assert t.suite_scores["m"].n == 20 and t.suite_scores["m"].stderr == pytest.approx(0.1124, abs=1e-4)


def test_ratio_above_frontier_is_capped_for_points_but_reported(make_inputs):
    t = decide(make_inputs(SPEC, {"a": team({"m": 1.0, "g1": 1.0, "g2": 0.8, "i": 0.6})}, [NEW])).teams[0]
    assert t.suite_scores["g2"].ratio == pytest.approx(2.0)
    assert t.points.global_common == pytest.approx(20)
    assert t.meets_target is True


def test_gates_eliminate_whatever_the_score_and_keep_cuts_the_rest(make_inputs):
    copied = Evidence(ruling=Ruling(passed=False, note="vision encoder copied"))
    teams = {"copier": team(ALL, expert=35, user=25, evidence=copied), "unsafe": team({**ALL, "m": 0.1}),
             "first": team(ALL), "second": team({"m": 0.4, "g1": 0.25, "g2": 0.2, "i": 0.3}),
             "third": team({"m": 0.35, "g1": 0.1, "g2": 0.1, "i": 0.1})}
    rows = {t.id: t for t in decide(make_inputs(SPEC, teams, [NEW])).teams}
    assert rows["copier"].outcome == "eliminated" and "independence" in rows["copier"].reason
    assert rows["unsafe"].outcome == "eliminated" and "safety" in rows["unsafe"].reason
    assert rows["unsafe"].gates["safety"].note == "m 0.100 < 0.300"
    assert [rows[k].rank for k in ("first", "second", "third")] == [1, 2, 3]
    assert [rows[k].outcome for k in ("first", "second", "third")] == ["advance", "advance", "eliminated"]


def test_out_of_range_points_are_refused(make_inputs):
    with pytest.raises(StageError, match="user points for team 'a' are 30.0, outside 0–25"):
        decide(make_inputs(SPEC, {"a": team(ALL, user=30)}, [NEW]))
    with pytest.raises(StageError, match="no user points for team 'a'"):
        decide(make_inputs(SPEC, {"a": team(ALL, user=None)}, [NEW]))


def test_a_suite_with_no_eligible_reference_score_is_refused(make_inputs):
    with pytest.raises(StageError, match="suite g2: no eligible frontier reference has a score"):
        decide(make_inputs(SPEC, {"a": team(ALL)}, [{**NEW, "published": {"m": 0.8, "g1": 0.5, "i": 0.6}}, OLD]))


def test_a_run_reference_scores_from_its_items(make_inputs):
    run = {"name": "New", "released": dt.date(2025, 8, 14), "scores": {k: items(v) for k, v in ALL.items()}}
    d = decide(make_inputs(SPEC, {"a": team(ALL)}, [run]))
    assert d.suites[0].frontier_best.score == pytest.approx(0.8) and d.teams[0].frontier_ratio == pytest.approx(1)


def test_same_inputs_give_byte_identical_decisions(make_inputs):
    teams = {"a": team(ALL), "b": team({**ALL, "g1": 0.3})}
    one, two = decide(make_inputs(SPEC, teams, [NEW])), decide(make_inputs(SPEC, teams, [NEW]))
    assert one.canonical() == two.canonical() and one.sha256() == two.sha256()
    later = decide(make_inputs(SPEC, teams, [NEW], decided_at="2026-01-01T00:00:00Z"))
    assert later.canonical() != one.canonical() and later.generated_at == "2026-01-01T00:00:00Z"


def test_decision_is_frozen(make_inputs):
    d = decide(make_inputs(SPEC, {"a": team(ALL)}, [NEW]))
    with pytest.raises(Exception):
        d.teams[0].total = 100.0


def test_panel_and_findings_csvs(tmp_path):
    from dokja.stage import read_findings, read_points

    (tmp_path / "e.csv").write_text("team,expert\na,30.5\n")
    (tmp_path / "f.csv").write_text("team,passed,note\na,no,encoder copied\nb,yes,\n")
    assert read_points(tmp_path / "e.csv", "expert") == {"a": 30.5}
    assert read_findings(tmp_path / "f.csv") == {"a": Finding(False, "encoder copied"), "b": Finding(True, "")}
    (tmp_path / "bad.csv").write_text("team,expert\na,lots\n")
    with pytest.raises(StageError, match="bad.csv:2: expert 'lots' is not a number"):
        read_points(tmp_path / "bad.csv", "expert")
    with pytest.raises(StageError, match="file not found"):
        read_findings(tmp_path / "missing.csv")


def test_expert_rows_duplicated_or_unknown_are_refused_and_a_bom_is_read(tmp_path):
    from dokja.stage import read_points

    (tmp_path / "dup.csv").write_text("team,expert\na,30\nb,20\na,10\n")
    with pytest.raises(StageError, match=r"dup.csv:4: team 'a' already given on line 2"):
        read_points(tmp_path / "dup.csv", "expert", {"a", "b"})
    (tmp_path / "who.csv").write_text("team,expert\na,30\nzeta,20\n")
    with pytest.raises(StageError, match=r"who.csv:3: no team 'zeta' in this stage \(teams: a, b\)"):
        read_points(tmp_path / "who.csv", "expert", {"a", "b"})
    (tmp_path / "bom.csv").write_bytes("\ufeffteam,expert\na,30\n".encode())
    assert read_points(tmp_path / "bom.csv", "expert", {"a"}) == {"a": 30.0}


def test_fixed_places_are_not_refilled_and_the_shortfall_is_said(make_inputs):
    """The first real stage's rule: five teams, four places on points; a gate failure within the four loses its
    place without the fifth taking it, so three advance and the decision says four were planned."""
    copied = Evidence(ruling=Ruling(passed=False, note="vision encoder copied"))
    teams = {"copier": team(ALL, expert=34, evidence=copied), "a": team(ALL, expert=33), "b": team(ALL, expert=32),
             "c": team(ALL, expert=31), "last": team(ALL, expert=10)}
    spec = {**SPEC, "gates": {}, "stages": [{**SPEC["stages"][0], "keep": 4, "places": "fixed"}]}
    d = decide(make_inputs(spec, teams, [NEW]))
    out = {t.id: t for t in d.teams}
    assert [k for k, t in out.items() if t.outcome == "advance"] == ["a", "b", "c"]
    assert out["copier"].reason == "failed the independence gate (on points 1 of 5, within the 4 kept)"
    assert out["last"].reason == "rank 4 of 4 passing the gates, 5 of 5 on points, below the 4 kept"
    assert (d.shortfall.kept, d.shortfall.planned, d.shortfall.text_en) == (3, 4, "keeps 3; 4 were planned")
    refill = decide(make_inputs({**spec, "stages": [{**spec["stages"][0], "places": "refill"}]}, teams, [NEW]))
    assert sum(t.outcome == "advance" for t in refill.teams) == 4 and refill.shortfall is None


def test_expert_points_come_from_the_closed_panel_and_its_agreement_travels_with_the_decision(make_inputs):
    """With the panel's scores among the inputs, expert points are the rubric's normalised means, recomputed by
    the decision itself; the bootstrap replicates hold the panel as scored."""
    from dokja.panel.records import PanelScores, Score
    from dokja.programme.panel import Panel

    panel = Panel()
    scores = {"a": 9, "b": 5}
    cells = tuple(Score(reviewer=f"R{r}", team=t, criterion=c.id, score=v + (r % 2))
                  for r in (1, 2, 3) for t, v in scores.items() for c in panel.rubric(35))
    record = PanelScores(stage="s1", rubric=panel.rubric(35), scale_min=1, scale_max=10, seed=0, scores=cells)
    inputs = make_inputs({**SPEC, "gates": {}}, {"a": team(ALL, expert=None), "b": team(ALL, expert=None)}, [NEW])
    d = decide(inputs.model_copy(update={"panel": record}))
    got = {t.id: t.points.expert for t in d.teams}
    mean = {t: v + 2 / 3 for t, v in scores.items()}  # reviewers R1 and R3 score one point higher
    assert got == pytest.approx({t: 35 * (m - 1) / 9 for t, m in mean.items()}, abs=1e-4)
    assert {a.criterion for a in d.panel.agreement} == {c.id for c in panel.rubric(35)}
    assert d.robustness is not None and [t.id for t in d.teams if t.outcome == "advance"] == ["a", "b"]


def test_the_robustness_bootstrap_redraws_each_teams_reviewers(make_inputs):
    """Two teams equal on everything but the panel: a's three reviewers split 1, 10, 10 (mean 7), b's agree on
    6. Redrawing a's reviewers puts a below b whenever two of its draws are the harsh one (7 in 27)."""
    from dokja.panel.records import PanelScores, Score
    from dokja.programme.panel import Panel

    rubric = Panel().rubric(35)
    given = {"a": (1, 10, 10), "b": (6, 6, 6)}
    cells = tuple(Score(reviewer=f"R{n}{t}", team=t, criterion=c.id, score=v)
                  for t, values in given.items() for n, v in enumerate(values) for c in rubric)
    record = PanelScores(stage="s1", rubric=rubric, scale_min=1, scale_max=10, seed=0, scores=cells)
    spec = {**SPEC, "gates": {}, "stages": [{**SPEC["stages"][0], "keep": 1}], "robustness": {"rounds": 400}}
    inputs = make_inputs(spec, {"a": team(ALL, expert=None), "b": team(ALL, expert=None)}, [NEW])
    d = decide(inputs.model_copy(update={"panel": record}))
    odds = {t.team: t.p_advance for t in d.robustness.teams}
    assert [t.id for t in d.teams if t.outcome == "advance"] == ["a"]
    assert odds["a"] == pytest.approx(20 / 27, abs=0.06) and odds["b"] == pytest.approx(7 / 27, abs=0.06)
