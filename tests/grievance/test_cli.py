"""`dokja grievance`: the steps from the command line, each refusal one red line."""

from __future__ import annotations

from typer.testing import CliRunner

from dokja.cli import app


def run(url, *args):
    return CliRunner().invoke(app, ["grievance", *args, "--db", url], env={"COLUMNS": "200"})


def test_publish_file_rule_and_window(decided, store_url, tmp_path):
    decided()
    assert "grievances until 2026-01-12 24:00 KST" in run(store_url, "publish", "--stage", "s1", "--now",
                                                         "2026-01-02T15:00+09:00").output
    (tmp_path / "log.txt").write_text("few-shot 5, not 0")
    filed = run(store_url, "file", "--team", "beta", "--grounds", "wrong few-shot setting", "--evidence",
                str(tmp_path / "log.txt"), "--now", "2026-01-12T23:59+09:00")
    assert filed.exit_code == 0 and "grievance 1 filed for team beta (1 evidence file(s))" in filed.output
    late = run(store_url, "file", "--team", "gamma", "--grounds", "late", "--now", "2026-01-13T00:01+09:00")
    assert late.exit_code == 2 and "the grievance window of s1 closed at 2026-01-12 24:00 KST" in late.output
    assert "Traceback" not in late.output and len(late.output.strip().splitlines()) == 1
    unreasoned = run(store_url, "rule", "1", "admit", "--now", "2026-01-14T09:00+09:00")
    assert unreasoned.exit_code == 2 and "written reason" in unreasoned.output
    assert "now admissible" in run(store_url, "rule", "1", "admit", "--reason", "a process defect is claimed",
                                   "--now", "2026-01-14T09:00+09:00").output
    listed = run(store_url, "list", "--stage", "s1")
    assert "beta" in listed.output and "admissible" in listed.output
    window = run(store_url, "window", "--now", "2026-01-14T09:00+09:00")
    assert "window closed" in window.output and "not final: grievance 1 still open" in window.output
    refused = run(store_url, "finalise", "--now", "2026-01-14T09:00+09:00")
    assert refused.exit_code == 2 and "cannot be final yet" in refused.output
    naive = run(store_url, "window", "--now", "2026-01-14T09:00")
    assert naive.exit_code == 2 and "has no time zone" in naive.output
