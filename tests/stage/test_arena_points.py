"""User-evaluation points come from the arena's ratings by the programme's mapping: from a votes export
anyone can recompute, or from the arena's own votes in the store."""

from __future__ import annotations

import pytest

from dokja.arena.export import write_votes
from dokja.arena.leaderboard import VoteRecord
from dokja.report import render_stage_report
from dokja.stage.gather import decide_from_store
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
    data = decide_from_store(store, None, tmp_path / "e.csv", None, None, votes=tmp_path / "votes.jsonl")
    teams = {t["id"]: t for t in data["teams"]}
    assert teams["alpha"]["points"]["user"] == pytest.approx(25.0)
    assert teams["beta"]["points"]["user"] == pytest.approx(0.0)
    assert teams["alpha"]["outcome"] == "advance" and teams["beta"]["outcome"] == "eliminated"
    assert data["arena"]["n_votes"] == 40 and data["arena"]["n_excluded"] == 1
    html = render_stage_report(data)
    assert 'id="arena"' in html and "공개 아레나" in html and "alpha-model" in html


def test_no_votes_is_a_clear_error(store, tmp_path):
    with pytest.raises(StageError, match="no votes"):
        decide_from_store(store, None, tmp_path / "e.csv", None, None)
