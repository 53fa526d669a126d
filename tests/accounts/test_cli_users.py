"""`dokja user add` and `dokja user list` through the real CLI."""

from __future__ import annotations

from typer.testing import CliRunner

from dokja.cli import app
from dokja.store import open_store


def test_add_from_a_prompt_and_a_file_then_list(tmp_path):
    db = str(tmp_path / "dokja.db")
    open_store(db)
    runner = CliRunner()
    asked = runner.invoke(app, ["user", "add", "office", "--role", "office", "--db", db],
                          input="long enough secret\nlong enough secret\n")
    assert asked.exit_code == 0, asked.output
    assert "office account office" in asked.output and "long enough secret" not in asked.output
    secret = tmp_path / "pw.txt"
    secret.write_text("another long secret\n", encoding="utf-8")
    added = runner.invoke(app, ["user", "add", "r1", "--role", "reviewer", "--reviewer", "kim", "--db", db,
                                "--password-file", str(secret)])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["user", "list", "--db", db])
    assert listed.exit_code == 0 and "r1" in listed.output and "reviewer" in listed.output and "kim" in listed.output


def test_a_refused_account_is_one_red_line(tmp_path):
    db = str(tmp_path / "dokja.db")
    open_store(db)
    secret = tmp_path / "pw.txt"
    secret.write_text("another long secret\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["user", "add", "t", "--role", "team", "--team", "ghost", "--db", db,
                                      "--password-file", str(secret)])
    assert result.exit_code == 2
    assert "no team 'ghost'" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
