"""Battles and votes carry their stage: a later stage's decision never counts an earlier stage's votes."""

from __future__ import annotations

from dokja.arena import read_votes, write_votes
from dokja.arena.service import Ballot, cast_votes, current_stage, open_battle, record_answer, votes_from_store
from dokja.programme import load_programme
from dokja.registry import import_programme
from dokja.stage.gather import _arena
from dokja.store import open_store

PROGRAMME = """
name = "Two stages"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2025-12-30
keep = 2
[[stages]]
id = "s2"
name = "Stage 2"
date = 2026-06-30
keep = 1
"""


def _battles(session, n: int, tag: str) -> list[Ballot]:
    out = []
    for k in range(n):
        b = open_battle(session, token="v", address="127.0.0.1", prompt=f"{tag} {k}", model_a="x", model_b="y",
                        probability=1.0)
        record_answer(session, b.key, "a", "one")
        record_answer(session, b.key, "b", "two")
        out.append(Ballot(b.key, "v", "a"))
    return out


def test_votes_belong_to_the_stage_open_when_the_battle_was_fought(tmp_path, sqlite_url):
    (tmp_path / "p.toml").write_text(PROGRAMME)
    sessions = open_store(sqlite_url)
    with sessions.begin() as s:
        prow = import_programme(s, load_programme(tmp_path / "p.toml"), PROGRAMME)
        assert current_stage(s) == "s1"
        cast_votes(s.connection(), _battles(s, 3, "first"))
        prow.stages[0].status = "decided"
    with sessions.begin() as s:
        assert current_stage(s) == "s2"
        cast_votes(s.connection(), _battles(s, 2, "second"))
    with sessions.begin() as s:
        assert [v.stage for v in votes_from_store(s, refresh=False)] == ["s1"] * 3 + ["s2"] * 2
        assert len(_arena(s, None, "s2").votes) == 2 and len(_arena(s, None, "s1").votes) == 3
        write_votes(votes_from_store(s, refresh=False), tmp_path / "votes.csv")
    assert [v.stage for v in read_votes(tmp_path / "votes.csv")].count("s1") == 3
    with sessions.begin() as s:
        assert len(_arena(s, tmp_path / "votes.csv", "s2").votes) == 2, "an export is scoped the same way"


def test_an_export_without_a_stage_column_still_reads(tmp_path):
    from dokja.arena.export import COLUMNS

    header = [c for c in COLUMNS if c != "stage"]
    row = ["b1", "x", "y", "a", "general", "ko", "1.0", "0", "0", "0", "0", "false", "false"]
    (tmp_path / "old.csv").write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    [vote] = read_votes(tmp_path / "old.csv")
    assert vote.stage == "" and vote.outcome == "a"
