"""`dokja panel …` on a real store: import, check, assign, score, import a score file, close, show."""

from __future__ import annotations

from typer.testing import CliRunner

from dokja.cli.app import app

from .conftest import PROGRAMME, REVIEWERS, build

runner = CliRunner()
KEYS = {"R1": "kim", "R2": "lee", "R3": "park", "R4": "choi", "R5": "jung", "R6": "kang"}


def run(*args, db):
    result = runner.invoke(app, ["panel", *args, "--db", db], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_the_office_runs_a_panel_from_the_command_line(tmp_path):
    db = str(tmp_path / "dokja.db")
    build(f"sqlite:///{db}", tmp_path, {**PROGRAMME, "panel": {"seed": 11, "bootstrap_rounds": 50}})
    (tmp_path / "more.toml").write_text(REVIEWERS, encoding="utf-8")
    code, out = run("reviewers", str(tmp_path / "more.toml"), db=db)
    assert code == 0 and "R6" in out and "kang" in out
    code, out = run("check", "--stage", "s1", db=db)
    assert code == 0 and "이해충돌" in out and out.count("conflict") >= 4 and "works at KAIST" in out
    code, out = run("dismiss", "jung", "hanbit", "--reason", "none", db=db)
    assert code == 2 and "error:" in out and "R5 has no conflict with team hanbit" in out
    code, out = run("assign", "--stage", "s1", db=db)
    assert code == 0 and "R2, R3, R6" in out and "0.600" in out
    code, out = run("score", "kim", "hanbit", "process", "8", db=db)
    assert code == 2 and "R1 has a conflict with team hanbit" in out and "Traceback" not in out
    draws = {"hanbit": "R2 R3 R6", "mirae": "R2 R3 R5", "saebyeok": "R1 R3 R6"}
    rows = ["reviewer,team,criterion,score,note"]
    for n, (team, who) in enumerate(draws.items()):
        for r in who.split():
            rows += [f"{KEYS[r]},{team},{c},{5 + n + (r == 'R3')},ok" for c in
                     ("process", "novelty", "originality", "diffusion")]
    rows.append("kim,hanbit,process,9,")
    (tmp_path / "scores.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, out = run("import", str(tmp_path / "scores.csv"), db=db)
    assert code == 1 and "36 score(s) kept, 1 refused" in out and "38" in out
    code, out = run("show", db=db)
    assert code == 2 and "the panel of stage s1 is still open" in out
    code, out = run("close", db=db)
    assert code == 0 and "36 scores" in out
    code, out = run("show", db=db)
    assert code == 0 and "Agreement 평가 일치도" in out and "tentative" in out and "saebyeok" in out
    assert "전문가 평가 점수 (of 35)" in out
