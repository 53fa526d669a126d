"""`dokja repechage`: open, apply, vote, decide, show from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from dokja.cli import app


def run(url, *args):
    return CliRunner().invoke(app, ["repechage", *args, "--db", url], env={"COLUMNS": "200"})


def test_a_call_from_the_command_line(stage_store, store_url, tmp_path):
    stage_store()
    opened = run(store_url, "open", "--stage", "s1", "--opens", "2026-01-23", "--closes", "2026-02-12",
                 "--requirements", "a from-scratch model", "--panel", "r1", "--panel", "r2", "--panel", "r3",
                 "--now", "2026-01-22T10:00+09:00")
    assert opened.exit_code == 0 and "repechage call 1 open" in opened.output
    (tmp_path / "loss.csv").write_text("step,loss\n0,10.9\n")
    applied = run(store_url, "apply", "1", "--key", "haneul", "--name", "Haneul", "--name-ko", "하늘", "--member",
                  "Park:student:KAIST", "--member", "Choi:lead", "--model", "haneul-32b", "--loss-log",
                  str(tmp_path / "loss.csv"), "--benchmark", "mmlu_pro=0.61", "--now", "2026-02-01T10:00+09:00")
    assert applied.exit_code == 0, applied.output
    no_student = run(store_url, "apply", "1", "--key", "solo", "--name", "Solo", "--member", "Choi:lead",
                     "--model", "m", "--loss-log", str(tmp_path / "loss.csv"), "--now", "2026-02-01T10:00+09:00")
    assert no_student.exit_code == 2 and "no student member" in no_student.output
    for reviewer in ("r1", "r2"):
        assert run(store_url, "vote", "1", "--reviewer", reviewer, "--applicant", "haneul", "--now",
                   "2026-02-19T10:00+09:00").exit_code == 0
    assert "voted for nobody" in run(store_url, "vote", "1", "--reviewer", "r3", "--nobody", "--now",
                                     "2026-02-19T10:00+09:00").output
    decided = run(store_url, "decide", "1", "--now", "2026-02-20T10:00+09:00")
    assert "haneul: 2 of the 3 members' votes, a majority" in decided.output
    shown = run(store_url, "show", "1")
    assert "team haneul admitted" in shown.output and "votes cast: 3 of 3 (1 for nobody)" in shown.output
