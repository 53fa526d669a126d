"""The panel's maths, with golden values: agreement (tolerance 1e-12 against the `krippendorff` package and a
hand count), the severity correction (1e-9), the normalisation to expert points (1e-12)."""

import math

import krippendorff
import numpy as np
import pytest

from dokja.panel.agreement import agreement, alpha, bootstrap
from dokja.panel.errors import PanelError
from dokja.panel.points import expert_points, panel_result
from dokja.panel.records import PanelScores, Score
from dokja.panel.severity import fit, parts
from dokja.programme.panel import DEFAULT_CRITERIA, Criterion, Panel

NAN = np.nan
MATRIX = np.array([[7, 5, 8, NAN, 3, 6], [6, NAN, 8, 4, 2, 6], [NAN, 5, 9, 4, 3, 7]])


def test_alpha_is_the_packages_and_the_hand_count():
    assert alpha(MATRIX)[0] == pytest.approx(krippendorff.alpha(reliability_data=MATRIX,
                                                                level_of_measurement="interval"), abs=1e-12)
    # two reviewers, units (1,1) (2,2) (3,4): Do = 2/6, De = 82/30, alpha = 1 − 10/82
    assert alpha(np.array([[1, 2, 3], [1, 2, 4]]))[0] == pytest.approx(72 / 82, abs=1e-12)


def test_a_disagreeing_panel_is_tentative_and_an_agreeing_one_is_not():
    disagreeing = np.array([[9, 2, 8, 3], [2, 9, 3, 8], [5, 5, 6, 4]], dtype=float)
    flagged = agreement("novelty", disagreeing, min_alpha=0.667, rounds=200, seed=0)
    assert flagged.tentative and flagged.alpha < 0 and "below min_alpha" in flagged.note
    assert not agreement("novelty", MATRIX, min_alpha=0.667, rounds=200, seed=0).tentative


def test_the_bootstrap_interval_is_deterministic_for_a_seed():
    one = bootstrap(MATRIX, 500, 3, "process")
    assert one == bootstrap(MATRIX, 500, 3, "process")
    assert one != bootstrap(MATRIX, 500, 4, "process")
    assert one[0] <= alpha(MATRIX)[0] <= one[1]


def test_degenerate_panels_say_why_rather_than_fail():
    one_team = agreement("x", np.array([[7.0], [8.0]]), min_alpha=0.667, rounds=100, seed=0)
    assert one_team.alpha is None and one_team.tentative and one_team.note.startswith("fewer than two teams")
    same = agreement("x", np.full((3, 4), 6.0), min_alpha=0.667, rounds=100, seed=0)
    assert same.alpha is None and same.note == "no variance: every score is the same"
    unpaired = np.array([[7, NAN, NAN], [NAN, 6, NAN], [NAN, NAN, 9]])
    assert alpha(unpaired) == (None, "fewer than two teams scored by two or more reviewers")
    assert alpha(np.empty((0, 0)))[0] is None


def test_severity_recovers_a_harsh_reviewer():
    teams = {"a": 8.0, "b": 5.0, "c": 6.5, "d": 7.0}
    offsets = {"R1": -2.0, "R2": 1.0, "R3": 0.5, "R4": 0.5}
    missing = {("R4", "a"), ("R1", "d"), ("R2", "c")}  # an incomplete, still connected design
    cells = [(r, t, m + o) for t, m in teams.items() for r, o in offsets.items() if (r, t) not in missing]
    effects, fitted = fit(cells)
    assert effects == pytest.approx(teams, abs=1e-9) and fitted == pytest.approx(offsets, abs=1e-9)


def test_offsets_sum_to_zero_in_each_connected_part():
    cells = [("R1", "a", 4.0), ("R2", "a", 6.0), ("R3", "b", 9.0), ("R4", "b", 5.0)]
    assert parts([(r, t) for r, t, _ in cells]) == [{"R1", "R2"}, {"R3", "R4"}]
    effects, offsets = fit(cells)
    assert effects == pytest.approx({"a": 5.0, "b": 7.0}) and offsets == pytest.approx(
        {"R1": -1.0, "R2": 1.0, "R3": 2.0, "R4": -2.0})


def test_normalisation_golden():
    means = {"process": 7.5, "novelty": 5.5, "originality": 10.0, "diffusion": 1.0}
    assert expert_points(means, DEFAULT_CRITERIA, 1, 10) == pytest.approx(10 * 6.5 / 9 + 10 * 4.5 / 9 + 10, abs=1e-12)
    assert expert_points({c.id: 10 for c in DEFAULT_CRITERIA}, DEFAULT_CRITERIA, 1, 10) == pytest.approx(35)
    assert expert_points({c.id: 1 for c in DEFAULT_CRITERIA}, DEFAULT_CRITERIA, 1, 10) == 0


def scores(cells, rubric=DEFAULT_CRITERIA[:2]) -> PanelScores:
    return PanelScores(stage="s1", rubric=rubric, scale_min=1, scale_max=10, seed=0,
                       scores=tuple(Score(reviewer=r, team=t, criterion=c, score=v) for r, t, c, v in cells))


def test_panel_result_golden_raw_and_corrected():
    rubric = (Criterion(id="x", name="X", weight=9.0), Criterion(id="y", name="Y", weight=18.0))
    true = {"a": 8.0, "b": 5.0, "c": 6.0}
    harsh = {"R1": -2.0, "R2": 1.0, "R3": 1.0}
    cells = [(r, t, c, true[t] + o) for c in "xy" for t in true for r, o in harsh.items() if (r, t) != ("R1", "c")]
    raw = panel_result(scores(cells, rubric), Panel(criteria=list(rubric), bootstrap_rounds=0))
    fixed = panel_result(scores(cells, rubric), Panel(criteria=list(rubric), bootstrap_rounds=0, severity=True))
    c = {t.team: t for t in fixed.teams}
    assert raw.teams[2].criteria[0].mean == pytest.approx(7.0) and raw.teams[2].criteria[0].corrected is None
    assert raw.points()["c"] == pytest.approx(27 * 6 / 9)  # (7 − 1)/9 of 27 points
    assert c["c"].criteria[0].corrected == pytest.approx(6.0) and c["c"].points == pytest.approx(27 * 5 / 9)
    assert c["a"].raw_points == pytest.approx(27 * (8 - 1) / 9) and c["a"].corrected_points == pytest.approx(21.0)
    assert {o.reviewer: o.offset for o in fixed.offsets if o.criterion == "x"} == pytest.approx(harsh)
    assert fixed.canonical() == panel_result(scores(list(reversed(cells)), rubric),
                                             Panel(criteria=list(rubric), bootstrap_rounds=0,
                                                   severity=True)).canonical()


def test_a_team_without_a_criterion_is_an_error():
    with pytest.raises(PanelError, match="team b has no score on criterion novelty"):
        panel_result(scores([("R1", "a", "process", 5), ("R1", "a", "novelty", 5), ("R1", "b", "process", 5)]),
                     Panel(bootstrap_rounds=0))
    assert math.isclose(expert_points({"process": 10}, DEFAULT_CRITERIA[:1], 1, 10), 10)
