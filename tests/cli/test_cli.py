"""The command line end to end on real (tiny, freshly trained) models: init → eval → decide → report."""

import pytest
from typer.testing import CliRunner

from dokja.cli import app
from dokja.demo.builders import build_scratch_model

runner = CliRunner()

PROGRAMME = """
name = "CLI test programme"
name_ko = "CLI 시험 프로그램"
[gates]
safety_suite = "kobbq"
safety_min_score = 0.0
[[stages]]
id = "stage-1"
name = "Stage 1"
name_ko = "1차"
date = 2025-12-30
keep = 1
[suites]
ministry = ["kobbq"]
global_common = ["en_knowledge", "kobest_copa"]
global_individual = ["kobest_copa"]
limit = 6
[[references]]
name = "Published Frontier"
vendor = "Somewhere"
released = 2025-09-01
scores = { kobbq = 0.6, en_knowledge = 0.7, kobest_copa = 0.8 }
source = "test"
[[references]]
name = "Old Frontier"
vendor = "Elsewhere"
released = 2024-10-01
scores = { kobbq = 0.9, en_knowledge = 0.9, kobest_copa = 0.9 }
"""


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return [build_scratch_model(root / f"m{seed}", seed=seed, vocab_size=512, hidden=32, layers=1, heads=2,
                                steps=3, seq_len=32, batch_size=4) for seed in (1, 2)]


def ok(args, env):
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_stage_end_to_end(tmp_path, tiny_models):
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"), "COLUMNS": "200"}
    (tmp_path / "p.toml").write_text(PROGRAMME, encoding="utf-8")
    ok(["init", str(tmp_path / "p.toml")], env)
    for key, model in zip(("alpha", "beta"), tiny_models):
        ok(["team", "add", key, "--name", key.title(), "--member", "Kim:lead:Co", "--member", "Lee:student:Uni"],
           env)
        ok(["model", "add", f"{key}-model", str(model), "--team", key], env)
    out = ok(["eval"], env)
    assert "alpha-model" in out and "kobest_copa" in out
    again = ok(["eval"], env)
    assert "computed" in again
    (tmp_path / "expert.csv").write_text("team,expert\nalpha,30\nbeta,20\n")
    (tmp_path / "user.csv").write_text("team,user\nalpha,10\nbeta,20\n")
    out = ok(["stage", "decide", "--expert", str(tmp_path / "expert.csv"), "--user", str(tmp_path / "user.csv")],
             env)
    assert "advance" in out and "✗ below the line" in out
    ok(["report", "--out", str(tmp_path / "r.html")], env)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Alpha" in html and "Beta" in html and "Old Frontier" in html


def test_resumed_eval_computes_nothing(tmp_path, tiny_models):
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"), "COLUMNS": "200"}
    (tmp_path / "p.toml").write_text(PROGRAMME, encoding="utf-8")
    ok(["init", str(tmp_path / "p.toml")], env)
    ok(["team", "add", "alpha", "--name", "Alpha", "--member", "Kim:lead", "--member", "Lee:student"], env)
    ok(["model", "add", "alpha-model", str(tiny_models[0]), "--team", "alpha"], env)
    ok(["eval"], env)
    out = ok(["eval"], env)
    rows = [line for line in out.splitlines() if "alpha-model" in line and "│" in line]
    assert rows and all(line.split("│")[5].strip() == "0" for line in rows)


@pytest.mark.parametrize("args, message", [
    (["team", "add", "solo", "--name", "Solo", "--member", "Kim:lead"], "no student member"),
    (["model", "add", "ghost", "/no/such/dir"], "model path not found: /no/such/dir"),
    (["init", "/no/such/programme.toml"], "file not found"),
    (["report"], "no store at"),
])
def test_user_errors_are_one_red_line_with_exit_2(tmp_path, args, message):
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "COLUMNS": "300"}
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_suite_import_from_a_local_dataset(tmp_path):
    data = tmp_path / "kmmlu.csv"
    data.write_text("question,A,B,C,D,answer\n대한민국의 수도는?,부산,서울,대구,광주,2\n1+1은?,1,2,3,4,2\n",
                    encoding="utf-8")
    env = {"DOKJA_SUITES": str(tmp_path / "suites"), "COLUMNS": "200"}
    ok(["suite", "import", str(data), "--id", "kmmlu_local", "--preset", "kmmlu", "--licence", "CC-BY-ND-4.0"], env)
    from dokja.harness import load_suite

    import os
    os.environ["DOKJA_SUITES"] = env["DOKJA_SUITES"]
    try:
        suite = load_suite("kmmlu_local")
    finally:
        del os.environ["DOKJA_SUITES"]
    assert [i["answer"] for i in suite.items] == [1, 1] and suite.meta["source"]["licence"] == "CC-BY-ND-4.0"
    bad = runner.invoke(app, ["suite", "import", str(data), "--id", "x", "--preset", "haerae"], env=env)
    assert bad.exit_code == 2 and "missing column 'query'" in bad.output
