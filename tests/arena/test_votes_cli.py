"""`dokja votes export` from a real store, then `dokja votes recompute` from the file: the site's numbers."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from dokja.arena import compute_leaderboard, leaderboard_json, read_votes
from dokja.arena.service import Ballot, cast_votes, open_battle, record_answer, votes_from_store
from dokja.cli.app import app
from dokja.store import open_store

MODELS = ["hanbit-ko-1.0", "mirae-135m-ko", "Gemma 3 270M"]


def test_export_from_the_store_recomputes_the_sites_leaderboard(tmp_path, sqlite_url):
    sessions = open_store(sqlite_url)
    rng = np.random.default_rng(0)
    with sessions.begin() as session:
        ballots = []
        for k in range(60):
            i, j = rng.choice(3, 2, replace=False)
            token = f"visitor-{k % 7}"
            b = open_battle(session, token=token, address="127.0.0.1", prompt=f"질문 {k}", model_a=MODELS[i],
                            model_b=MODELS[j], probability=1 / 3, weight=float(rng.choice([0.8, 1.0, 1.25])))
            record_answer(session, b.key, "a", "## Answer\n- one\n- two" if k % 2 else "short")
            record_answer(session, b.key, "b", "I am Gemma, made by Google." if k == 5 else "an answer",
                          reveals_identity=k == 5)
            ballots.append(Ballot(b.key, token, ["a", "b", "tie", "both_bad"][int(rng.integers(0, 4))]))
        assert {v.status for v in cast_votes(session.connection(), ballots)} == {"ok"}
    with sessions.begin() as session:
        site = leaderboard_json(compute_leaderboard(votes_from_store(session)))
    out = tmp_path / "votes.jsonl"
    done = CliRunner().invoke(app, ["votes", "export", "--out", str(out), "--db", sqlite_url])
    assert done.exit_code == 0, done.output
    assert "60 votes (59 counted)" in done.output
    exported = read_votes(out)
    assert len(exported) == 60 and sum(v.reveals_identity for v in exported) == 1
    assert any(v.md_a == 3 for v in exported)  # a header and two list items
    text = out.read_text(encoding="utf-8")
    assert "visitor-" not in text and "127.0.0.1" not in text and "질문" not in text
    again = CliRunner().invoke(app, ["votes", "recompute", str(out), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.output) == site


def test_the_cli_export_names_battles_by_public_id_as_the_site_does(tmp_path, sqlite_url):
    sessions = open_store(sqlite_url)
    with sessions.begin() as session:
        b = open_battle(session, token="v", address="127.0.0.1", prompt="질문", model_a=MODELS[0], model_b=MODELS[1],
                        probability=1.0)
        record_answer(session, b.key, "a", "one")
        record_answer(session, b.key, "b", "two")
        cast_votes(session.connection(), [Ballot(b.key, "v", "a")])
        key = b.key
    out = tmp_path / "votes.csv"
    done = CliRunner().invoke(app, ["votes", "export", "--out", str(out), "--db", sqlite_url])
    assert done.exit_code == 0, done.output
    assert key not in out.read_text() and len(read_votes(out)[0].battle) == 32
