"""`dokja resources`: the ledger per team and period, its CSV export, applying a decision, the chart."""

import csv

from typer.testing import CliRunner

from dokja.cli import app

runner = CliRunner()


def run(*args):
    result = runner.invoke(app, list(args), env={"COLUMNS": "160"})
    return result.exit_code, result.output


def test_an_unopened_ledger_says_how_to_open_it(decided, store_url):
    code, out = run("resources", "--db", store_url)
    assert code == 0 and "dokja resources open" in out


def test_the_ledger_per_team_and_period_with_totals_against_the_budget(decided, store_url, tmp_path):
    assert run("resources", "open", "--db", store_url)[0] == 0
    code, out = run("resources", "allocate", "--stage", "s1", "--db", store_url)
    assert code == 0 and "5 entries added" in out and "-1,024 GPU" in out and "eliminated" in out
    code, out = run("resources", "allocate", "--stage", "s1", "--db", store_url)
    assert code == 0 and "nothing to add" in out
    code, out = run("resources", "--db", store_url, "--csv", str(tmp_path / "ledger.csv"))
    assert code == 0, out
    periods = ["2025-08-01–2025-12-31", "2026-01-01–2026-01-08", "2026-01-09 on"]
    assert all(p in out for p in periods)
    assert "Beta 베타" in out and "pool 풀" in out and "768 B200" in out and "1,024 H100" in out
    assert "4,096 / 5,000" in out  # GPUs issued (teams and pool) against the budget, H100-equivalents
    rows = list(csv.DictReader((tmp_path / "ledger.csv").open(encoding="utf-8")))
    assert len(rows) == 12 + 5 and rows[0]["holder"] == "alpha" and rows[-1]["decision"] == "1"
    assert {r["unit"] for r in rows} == {"GPU", "won", "won/year"}


def test_the_ledger_on_a_day(decided, store_url, tmp_path):
    run("resources", "open", "--db", store_url)
    code, out = run("resources", "--on", "2025-12-31", "--db", store_url, "--csv", str(tmp_path / "l.csv"))
    assert code == 0 and "2025-12-31 on" in out and "B200" in out
    beta = next(line for line in out.splitlines() if "Beta" in line)
    assert "—" in beta.split("│")[3]  # the lessor holds no GPUs yet
    lines = (tmp_path / "l.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 11  # not beta's GPUs, effective from 2026-01-01


def test_refusals_are_one_red_line(decided, store_url):
    code, out = run("resources", "allocate", "--stage", "s2", "--db", store_url)
    assert code == 2 and "stage 's2' has no decision yet" in out and "Traceback" not in out
    code, out = run("resources", "--on", "soon", "--db", store_url)
    assert code == 2


def test_the_chart_command_writes_a_png(decided, store_url, tmp_path):
    run("resources", "allocate", "--stage", "s1", "--db", store_url)
    code, out = run("resources", "chart", "--out", str(tmp_path / "r.png"), "--db", store_url)
    assert code == 0 and (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG") and "H100 환산" in out
