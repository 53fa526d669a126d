import datetime as dt

import pytest

from dokja.programme.schema import Programme
from dokja.stage import Finding, ReferenceInput, Score, StageError, TeamInput, decide

SPEC = Programme.model_validate({
    "name": "P", "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30", "keep": 2}],
    "suites": {"ministry": ["m"], "global_common": ["g1", "g2"], "global_individual": ["i"]},
    "gates": {"safety_suite": "m", "safety_min_score": 0.3},
})
STAGE = SPEC.stages[0]
SUITES = {k: {"title_en": k, "metric": "acc", "n_items": 10} for k in ("m", "g1", "g2", "i")}
NEW = ReferenceInput("New", "V", dt.date(2025, 8, 14), {"m": 0.8, "g1": 0.5, "g2": 0.4, "i": 0.6})
OLD = ReferenceInput("Old", "V", dt.date(2024, 11, 1), {"m": 0.9, "g1": 0.9, "g2": 0.9, "i": 0.9})


def team(key, scores, expert=30.0, user=20.0, **kw):
    return TeamInput(id=key, name=key.title(), model=f"{key}-m", target="New",
                     scores={k: Score(v, 0.01, 10, "acc") for k, v in scores.items()}, expert=expert, user=user, **kw)


def test_old_reference_outside_window_does_not_set_the_frontier():
    data = decide(SPEC, STAGE, [team("a", {"m": 0.8, "g1": 0.5, "g2": 0.4, "i": 0.6})], [NEW, OLD], SUITES)
    eligible = {f["name"]: f["eligible"] for f in data["frontier"]}
    assert eligible == {"New": True, "Old": False}
    assert "before the window opened on 2025-06-30" in data["frontier"][1]["reason"]
    best = {s["id"]: s["frontier_best"]["name"] for s in data["suites"]}
    assert set(best.values()) == {"New"}


def test_points_follow_ratios_to_the_frontier():
    scores = {"m": 0.4, "g1": 0.5, "g2": 0.2, "i": 0.3}
    data = decide(SPEC, STAGE, [team("a", scores)], [NEW, OLD], SUITES)
    p = data["teams"][0]["points"]
    assert p["ministry"] == pytest.approx(10 * 0.4 / 0.8)
    assert p["global_common"] == pytest.approx(20 * (1.0 + 0.5) / 2)
    assert p["global_individual"] == pytest.approx(10 * 0.3 / 0.6)
    assert data["teams"][0]["total"] == pytest.approx(p["benchmark"] + 30 + 20)
    assert data["teams"][0]["frontier_ratio"] == pytest.approx((0.5 + 1.0 + 0.5) / 3)
    assert data["teams"][0]["meets_target"] is False


def test_ratio_above_frontier_is_capped_for_points_but_reported():
    scores = {"m": 1.0, "g1": 1.0, "g2": 0.8, "i": 0.6}
    row = decide(SPEC, STAGE, [team("a", scores)], [NEW], SUITES)["teams"][0]
    assert row["suite_scores"]["g2"]["ratio"] == pytest.approx(2.0)
    assert row["points"]["global_common"] == pytest.approx(20)
    assert row["meets_target"] is True


def test_gates_eliminate_whatever_the_score_and_keep_cuts_the_rest():
    strong = {"m": 0.8, "g1": 0.5, "g2": 0.4, "i": 0.6}
    teams = [
        team("copier", strong, expert=35, user=25, independence=Finding(False, "vision encoder copied")),
        team("unsafe", {**strong, "m": 0.1}),
        team("first", strong),
        team("second", {"m": 0.4, "g1": 0.25, "g2": 0.2, "i": 0.3}),
        team("third", {"m": 0.35, "g1": 0.1, "g2": 0.1, "i": 0.1}),
    ]
    rows = {r["id"]: r for r in decide(SPEC, STAGE, teams, [NEW], SUITES)["teams"]}
    assert rows["copier"]["outcome"] == "eliminated" and "independence" in rows["copier"]["reason"]
    assert rows["unsafe"]["outcome"] == "eliminated" and "safety" in rows["unsafe"]["reason"]
    assert rows["unsafe"]["gates"]["safety"]["note"] == "m 0.100 < 0.300"
    assert [rows[k]["rank"] for k in ("first", "second", "third")] == [1, 2, 3]
    assert [rows[k]["outcome"] for k in ("first", "second", "third")] == ["advance", "advance", "eliminated"]


def test_missing_or_out_of_range_panel_points_are_refused():
    with pytest.raises(StageError, match="no expert points for team 'a'"):
        decide(SPEC, STAGE, [team("a", {}, expert=None)], [NEW], SUITES)
    with pytest.raises(StageError, match="outside 0–25"):
        decide(SPEC, STAGE, [team("a", {}, user=30)], [NEW], SUITES)


def test_missing_suite_scores_earn_nothing_and_are_marked():
    row = decide(SPEC, STAGE, [team("a", {"m": 0.8})], [NEW], SUITES)["teams"][0]
    assert row["suite_scores"]["g1"]["score"] is None and row["suite_scores"]["g1"]["ratio"] is None
    assert row["points"]["global_common"] == 0


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
