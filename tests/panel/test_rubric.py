"""The `[panel]` table: the default rubric, its anchors, and weights that must add up to the expert points."""

import pytest

from dokja.programme import ProgrammeError, load_programme
from dokja.programme.panel import Panel
from dokja.programme.schema import Programme

BASE = """
name = "P"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2025-12-30
keep = 1
"""


def load(tmp_path, text):
    (tmp_path / "p.toml").write_text(BASE + text, encoding="utf-8")
    return load_programme(tmp_path / "p.toml")


def test_the_default_rubric_is_the_first_stages_35_points_with_anchors_in_both_languages():
    panel = Panel()
    assert [(c.id, c.weight) for c in panel.rubric(35)] == [("process", 10), ("novelty", 10), ("originality", 10),
                                                            ("diffusion", 5)]
    assert all(set(c.anchors) == set(c.anchors_ko) == {1, 4, 7, 10} for c in panel.rubric(35))
    assert [c.weight for c in panel.rubric(28)] == [8, 8, 8, 4]  # another scheme: the default scaled to it
    assert (panel.reviewers_per_team, panel.max_probability, panel.seed, panel.conflict_years, panel.min_alpha,
            panel.severity, panel.bootstrap_rounds) == (3, 1.0, 0, 3, 0.667, False, 1000)


def test_an_explicit_panel_must_weigh_the_expert_points(tmp_path):
    rubric = """
[panel]
reviewers_per_team = 2
[[panel.criteria]]
id = "process"
name = "Process"
weight = 20
anchors = {1 = "none", 10 = "complete"}
[[panel.criteria]]
id = "novelty"
name = "Novelty"
weight = 10
"""
    with pytest.raises(ProgrammeError, match="panel.criteria: the weights sum to 30; scheme.expert is 35"):
        load(tmp_path, rubric)
    spec = load(tmp_path, "[scheme]\nexpert = 30\n" + rubric)
    assert spec.panel.criteria[0].anchors == {1: "none", 10: "complete"} and spec.panel.reviewers_per_team == 2
    assert Programme.model_validate(spec.model_dump(mode="json")) == spec


def test_bad_rubrics_are_one_line_errors(tmp_path):
    with pytest.raises(ProgrammeError, match="off the scale 1–10"):
        load(tmp_path, '[[panel.criteria]]\nid = "x"\nname = "X"\nweight = 35\nanchors = {0 = "nothing"}\n')
    with pytest.raises(ProgrammeError, match="x listed more than once"):
        load(tmp_path, '[[panel.criteria]]\nid = "x"\nname = "X"\nweight = 30\n'
                       '[[panel.criteria]]\nid = "x"\nname = "X"\nweight = 5\n')
    with pytest.raises(ProgrammeError, match="panel.scale_max"):
        load(tmp_path, "[panel]\nscale_max = 5\n")
    with pytest.raises(ProgrammeError, match="bootstrap_rounds must be 0"):
        load(tmp_path, "[panel]\nbootstrap_rounds = 1\n")
    assert load(tmp_path, "[panel]\nseed = 7\n").panel.seed == 7


def test_a_programme_without_a_rubric_survives_the_store_whatever_its_expert_points():
    """The store keeps the programme as dumped JSON; reading it back must validate (the default rubric scales)."""
    spec = Programme.model_validate({"name": "P", "scheme": {"expert": 30}, "stages": [
        {"id": "s1", "name": "S", "date": "2025-12-30", "keep": 1}]})
    again = Programme.model_validate(spec.model_dump(mode="json"))
    assert again == spec and sum(c.weight for c in again.panel.rubric(again.scheme.expert)) == pytest.approx(30)
