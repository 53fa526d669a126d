"""`dokja arena leaderboard` (from the store) equals `dokja votes recompute` on the export."""

import json

from typer.testing import CliRunner

from dokja.arena.service import Ballot, cast_votes, open_battle, record_answer
from dokja.cli import app
from dokja.store import open_store


def test_store_leaderboard_equals_recompute_from_export(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    sessions = open_store(url)

    pairs = [("m1", "m2", "a"), ("m2", "m3", "b"), ("m3", "m1", "tie"), ("m1", "m3", "a"), ("m2", "m1", "both_bad")]
    engine = sessions.kw["bind"]
    for k in range(15):
        a, b, outcome = pairs[k % len(pairs)]
        with sessions.begin() as session:
            key = open_battle(session, token=f"visitor-{k}", address="x", prompt=f"p{k}", model_a=a, model_b=b,
                              probability=0.2, weight=1 / (0.2 * 3)).key
            record_answer(session, key, "a", "**one**\n- two", tokens=3)
            record_answer(session, key, "b", "plain", tokens=1)
        with engine.begin() as conn:
            assert cast_votes(conn, [Ballot(key, f"visitor-{k}", outcome)])[0].status == "ok"
    runner = CliRunner()
    own = runner.invoke(app, ["arena", "leaderboard", "--db", url, "--json"])
    assert own.exit_code == 0, own.output
    export = tmp_path / "votes.jsonl"
    assert runner.invoke(app, ["votes", "export", "--db", url, "--out", str(export)]).exit_code == 0
    again = runner.invoke(app, ["votes", "recompute", str(export), "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(own.output) == json.loads(again.output)
    assert json.loads(own.output)["n_votes"] == 15
    bad = runner.invoke(app, ["arena", "leaderboard", "--db", url, "--ties", "thirds"])
    assert bad.exit_code == 2 and "ties must be one of" in bad.output
