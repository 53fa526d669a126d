"""User-evaluation points come from the arena's ratings by the programme's mapping: from a votes export
anyone can recompute, or from the arena's own votes in the store."""

from __future__ import annotations

import pytest

from dokja.arena.export import write_votes
from dokja.arena.leaderboard import VoteRecord
from dokja.report import render_stage_report
from dokja.stage import OfficeFiles, decide_stage
from dokja.stage.inputs import StageError

ARENA = """
[arena]
points = "linear"
ties = "half"
"""


@pytest.fixture
def store(tmp_path, two_teams):
    (tmp_path / "e.csv").write_text("team,expert\nalpha,20\nbeta,20\n")
    return two_teams(keep=1, extra=ARENA)


def test_user_points_follow_the_arena_ratings(store, tmp_path):
    votes = [VoteRecord(f"b{k}", "alpha-model", "beta-model", "a" if k % 4 else "b") for k in range(40)]
    votes.append(VoteRecord("x", "alpha-model", "beta-model", "b", flagged=True))
    write_votes(votes, tmp_path / "votes.jsonl")
    _, d = decide_stage(store, None, OfficeFiles(expert=tmp_path / "e.csv", votes=tmp_path / "votes.jsonl"))
    teams = {t.id: t for t in d.teams}
    assert teams["alpha"].points.user > teams["beta"].points.user
    assert teams["alpha"].outcome == "advance" and teams["beta"].outcome == "eliminated"
    assert d.arena["n_votes"] == 40 and d.arena["n_excluded"] == 1 and d.user_source == "arena"
    html = render_stage_report(d.model_dump(mode="json"))
    assert 'id="arena"' in html and "공개 아레나" in html and "alpha-model" in html


def test_no_votes_is_a_clear_error(store, tmp_path):
    with pytest.raises(StageError, match="no votes"):
        decide_stage(store, None, OfficeFiles(expert=tmp_path / "e.csv"))


def test_a_decision_before_any_evaluation_is_refused(tmp_path, two_teams):
    sessions = two_teams(keep=1, evaluate=False)
    (tmp_path / "e.csv").write_text("team,expert\nalpha,20\nbeta,20\n")
    (tmp_path / "u.csv").write_text("team,user\nalpha,20\nbeta,20\n")
    with pytest.raises(StageError, match="no evaluation yet of kobbq, kobest_copa: run `dokja eval`"):
        decide_stage(sessions, None, OfficeFiles(expert=tmp_path / "e.csv", user=tmp_path / "u.csv"))


def test_replay_ignores_what_arrived_after_the_decision(store, tmp_path):
    """A decision is replayed from its stored inputs: a later run or vote cannot change it."""
    from sqlalchemy import select

    from dokja.stage import replay
    from dokja.store import schema as db

    (tmp_path / "u.csv").write_text("team,user\nalpha,20\nbeta,10\n")
    files = OfficeFiles(expert=tmp_path / "e.csv", user=tmp_path / "u.csv")
    number, first = decide_stage(store, None, files)
    with store.begin() as s:
        result = s.scalars(select(db.Result)).first()
        result.metrics = {k: 1.0 - v for k, v in result.metrics.items()}  # a changed item after the decision
    with store.begin() as s:
        row = s.get(db.Decision, number)
        assert replay(row).canonical() == first.canonical() and row.sha256 == first.sha256()
    with pytest.raises(StageError, match="already has decision"):
        decide_stage(store, None, files)
    _, second = decide_stage(store, None, files, reason="an item was rescored")
    assert second.supersedes == number and second.inputs_sha256 != first.inputs_sha256


def test_a_short_run_with_another_limit_does_not_replace_the_stages(store, tmp_path, cache):
    from dokja.harness.campaign import evaluate_models, stage_models
    from dokja.programme import Programme
    from dokja.registry import programme_row, stage_row

    (tmp_path / "u.csv").write_text("team,user\nalpha,20\nbeta,10\n")
    files = OfficeFiles(expert=tmp_path / "e.csv", user=tmp_path / "u.csv")
    _, before = decide_stage(store, None, files)
    with store.begin() as s:
        prow = programme_row(s)
        spec = Programme.model_validate(prow.config)
        models = stage_models(s, prow, stage_row(s, prow, None))
    quick = spec.model_copy(update={"suites": spec.suites.model_copy(update={"limit": 1})})
    evaluate_models(store, models, spec.suites.all, quick, cache_dir=cache)  # newer, with limit 1
    _, after = decide_stage(store, None, files, reason="again")
    assert [t.suite_scores for t in after.teams] == [t.suite_scores for t in before.teams]
    assert all(s.n == 3 for t in after.teams for s in t.suite_scores.values())
