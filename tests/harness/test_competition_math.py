"""Competition maths: reading the final answer, judging it equal to the gold one, the bundled samples."""

from __future__ import annotations

import json
import signal
import threading
import time
import tomllib
from pathlib import Path

import pytest

from dokja.harness import mathanswer
from dokja.harness.mathanswer import equivalent, extract_answer, last_boxed, score, too_risky
from dokja.harness import runner
from dokja.harness.suite import BUNDLED, bundled_suites, load_suite

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


# --------------------------------------------------------------------------- extraction

@pytest.mark.parametrize("text, expected", [
    ("so $x = \\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
    ("\\boxed{\\frac{\\sqrt{3}}{\\left(2+\\frac{1}{x}\\right)}}", "\\frac{\\sqrt{3}}{\\left(2+\\frac{1}{x}\\right)}"),
    ("first \\boxed{3}, on second thought \\boxed{4}", "4"),
    ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
    ("The area is \\fbox{12}", "12"),
    ("\\boxed 7 is it", "7"),
    ("done: \\boxed{5} and then the output was cut \\boxed{\\frac{1", "5"),
    ("It is 4. So the answer is 12.", "12"),
    ("The final answer is: **-3.5**.", "-3.5"),
    ("Answer: $\\frac{2}{3}$, as shown", "\\frac{2}{3}"),
    ("The answer is not 4... the answer is 5", "5"),
    ("따라서 정답은 42입니다.", "42"),
    ("계산하면 답: 17", "17"),
    ("최종 답은 $\\sqrt{2}$이다.", "\\sqrt{2}"),
    ("She makes 9 * 2 = $18.\n#### 18", "18"),
    ("#### 1,234", "1,234"),
    ("We get 1,234 apples and then 5,678,000 more", "5678000"),
    ("The temperature fell to −12 degrees, then to -7", "-7"),
    ("nothing numeric here", None),
    ("", None),
])
def test_extract_answer(text, expected):
    assert extract_answer(text) == expected


def test_boxed_beats_stated_answer():
    assert extract_answer("The answer is 3, i.e. \\boxed{4}") == "4"


def test_last_boxed_none_without_a_box():
    assert last_boxed("the answer is 3") is None
    assert last_boxed("\\boxed{}") is None


# --------------------------------------------------------------------------- equivalence

EQUAL = [
    ("0.5", "\\frac{1}{2}"),
    ("1/2", "\\frac{1}{2}"),
    ("\\frac12", "\\frac{1}{2}"),
    ("\\dfrac{3}{4}", "0.75"),
    ("\\sqrt{2}/2", "\\frac{\\sqrt2}{2}"),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"),
    ("(1,2]", "(1, 2]"),
    ("\\left(1,2\\right]", "(1,2]"),
    ("[1,\\infty)", "[1, \\infty)"),
    ("\\{2, 1\\}", "\\{1,2\\}"),
    ("2, 1", "1, 2"),
    ("(3,\\pi/2)", "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("10\\%", "10"),
    ("10%", "10"),
    ("5\\text{ cm}", "5"),
    ("5 cm", "5"),
    ("\\$5", "5"),
    ("$5", "5"),
    ("42개", "42"),
    ("1,000", "1000"),
    ("1{,}000", "1000"),
    ("32348", "\\$32,\\!348"),
    ("11111111100", "11,\\! 111,\\! 111,\\! 100"),
    ("3.0", "3"),
    ("x=3", "3"),
    ("x = 3", "3"),
    ("070", "70"),
    ("-2", "-2"),
    ("1+x^2", "x^2+1"),
    ("6+9i", "9i+6"),
    ("\\text{(C)}", "C"),
    ("30^\\circ", "30"),
]

DIFFERENT = [
    ("0.51", "\\frac{1}{2}"),
    ("\\frac{1}{3}", "\\frac{1}{2}"),
    ("\\sqrt{3}/2", "\\frac{\\sqrt2}{2}"),
    ("[1,2]", "(1,2]"),
    ("(1,2)", "(1,2]"),
    ("\\{1,3\\}", "\\{1,2\\}"),
    ("-2", "2"),
    ("4", "3"),
    ("3x", "3"),
    ("1 2", "12"),
    ("5\\text{ or }6", "56"),
    ("1001", "1,000"),
    ("71", "070"),
    ("\\frac{1}{2}x", "\\frac{1}{2}"),
    ("x^2-1", "x^2+1"),
    ("", "3"),
    (None, "3"),
]


@pytest.mark.parametrize("predicted, gold", EQUAL)
def test_equivalent(predicted, gold):
    assert equivalent(predicted, gold)


@pytest.mark.parametrize("predicted, gold", DIFFERENT)
def test_not_equivalent(predicted, gold):
    assert not equivalent(predicted, gold)


def test_score_is_the_math_metric_and_the_extracted_answer():
    assert score("Adding up, the answer is $\\boxed{\\dfrac{1}{2}}$.", "0.5") == ({"math": 1.0}, "\\dfrac{1}{2}")
    assert score("정답은 7입니다.", "8") == ({"math": 0.0}, "7")
    assert score("I do not know.", "8") == ({"math": 0.0}, None)


# --------------------------------------------------------------------------- hostile output

HOSTILE = [
    "\\frac{1}{" * 5000 + "2" + "}" * 5000,
    "(" * 200 + "1" + ")" * 200,
    "9^{9^{9^{9}}}",
    "2^{10^{12}}",
    "2**10**12",
    "2^{1000000000}",
    "(10^{8})!",
    "123456789!",
    "\\binom{1000000000}{100000000}",
    "\\prod_{k=1}^{100000000} k",
    "+".join(["x"] * 3000),
]


@pytest.mark.parametrize("answer", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_answer_returns_within_a_second(answer):
    started = time.monotonic()
    assert score(f"so \\boxed{{{answer}}}", "5")[0] == {"math": 0.0}
    assert time.monotonic() - started < 1.0


def test_hostile_output_text_is_read_quickly():
    text = "\\boxed{" * 20000 + "1" + "}" * 19999 + " the answer is " * 20000 + "#### " * 20000
    started = time.monotonic()
    score(text, "1")
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("answer", ["\\frac{1}{2}", "2^{2017}", "10!", "\\binom{10}{3}", "(1,2]", "x^2+1"])
def test_ordinary_answers_pass_the_screen(answer):
    assert too_risky(answer) is None


def test_the_alarm_bounds_slow_comparisons(monkeypatch):
    def slow(predicted, gold):
        time.sleep(5)
        return True

    monkeypatch.setattr(mathanswer, "_verify", slow)
    started = time.monotonic()
    assert not equivalent("\\frac{1}{2}", "\\sqrt{2}", time_limit=0.2)
    assert time.monotonic() - started < 1.0
    assert signal.getsignal(signal.SIGALRM) is not mathanswer._on_alarm  # the caller's handler is back


def test_scoring_works_off_the_main_thread():
    """No alarm can be set there: math-verify runs without one, and the screen still refuses hostile input."""
    results = {}

    def work():
        results["half"] = equivalent("0.5", "\\frac{1}{2}")
        results["interval"] = equivalent("(1,2]", "\\left(1, 2\\right]")
        started = time.monotonic()
        results["hostile"] = equivalent("9^{9^{9^{9}}}", "5")
        results["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    assert results["half"] and results["interval"] and not results["hostile"]
    assert results["seconds"] < 1.0


# --------------------------------------------------------------------------- the bundled samples

SAMPLES = ["gsm8k_sample", "math500_sample"]


@pytest.mark.parametrize("name", SAMPLES)
def test_bundled_sample_loads_as_a_math_suite(name):
    suite = load_suite(name)
    assert suite.kind == "generate" and suite.metric == "math" and suite.meta["scorer"] == "math"
    assert 40 <= len(suite.items) <= 60 and 5 <= len(suite.fewshot) <= 10
    assert suite.meta["generate"]["max_new_tokens"] >= 512
    assert not {i["id"] for i in suite.items} & {i["id"] for i in suite.fewshot}
    assert all("\\boxed{}" in i["prompt"] for i in suite.items)
    notice = (BUNDLED / name / "NOTICE.md").read_text(encoding="utf-8")
    assert suite.meta["source"]["licence"] == "MIT" and "MIT" in notice
    assert "Permission is hereby granted" in (BUNDLED / name / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SAMPLES)
def test_every_gold_answer_scores_against_itself(name):
    suite = load_suite(name)
    for item in suite.items:
        gold = item["answer"]
        for text in (f"Working through it step by step, so the answer is \\boxed{{{gold}}}.",
                     f"Working through it... \\boxed{{0}} is wrong; the final answer is $\\boxed{{{gold}}}$"):
            assert score(text, gold)[0] == {"math": 1.0}, (item["id"], text)
        assert mathanswer._verify(gold, gold), item["id"]  # math-verify itself reads every gold answer


def test_gsm8k_golds_also_score_as_plain_statements():
    for item in load_suite("gsm8k_sample").items:
        gold = item["answer"]
        assert gold.lstrip("-").isdigit(), item["id"]
        for text in (f"She pays {int(gold) + 3} first. The answer is {gold}.", f"...\n#### {int(gold):,}",
                     f"In total {gold} dollars"):
            assert score(text, gold)[0] == {"math": 1.0}, (item["id"], text)


@pytest.mark.parametrize("name", SAMPLES)
def test_fewshot_solutions_end_in_their_answer(name):
    suite = load_suite(name)
    for shot in suite.fewshot:
        assert extract_answer(shot["answer"]) is not None, shot["id"]


def test_math500_items_keep_subject_and_level():
    for item in load_suite("math500_sample").items:
        meta = item["metadata"]
        assert meta["subject"] and 1 <= meta["level"] <= 5 and meta["unique_id"].startswith("test/")


def test_math500_sample_matches_its_source():
    source = SHARED / "math500" / "test.jsonl"
    if not source.is_file():
        pytest.skip("../shared/data/math500 not present")
    rows = {r["unique_id"]: r for r in map(json.loads, source.read_text(encoding="utf-8").splitlines())}
    for item in load_suite("math500_sample").items:
        row = rows[item["metadata"]["unique_id"]]
        assert item["answer"] == row["answer"] and item["prompt"].startswith(row["problem"].strip())
        solution = extract_answer(row["solution"])
        assert equivalent(solution, item["answer"]), item["id"]


def test_aime_ships_no_items_only_a_definition():
    folder = BUNDLED / "aime2025_sample"
    assert {p.name for p in folder.iterdir()} == {"NOTICE.md", "suite.toml.example"}
    meta = tomllib.loads((folder / "suite.toml.example").read_text(encoding="utf-8"))
    assert meta["kind"] == "generate" and meta["metric"] == "math" and meta["scorer"] == "math"
    assert "aime2025_sample" not in bundled_suites()


def test_aime_answers_compare_as_integers(tmp_path):
    source = SHARED / "aime2025" / "test.jsonl"
    if not source.is_file():
        pytest.skip("../shared/data/aime2025 not present")
    folder = tmp_path / "aime2025"
    folder.mkdir()
    (folder / "suite.toml").write_text((BUNDLED / "aime2025_sample" / "suite.toml.example").read_text("utf-8"),
                                       encoding="utf-8")
    instruction = "\n\nPlease reason step by step, and put your final answer within \\boxed{}."
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [{"id": f"aime2025-{r['id']}", "prompt": r["problem"].strip() + instruction, "answer": str(r["answer"])}
             for r in rows]
    (folder / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    suite = load_suite(folder)
    assert len(suite.items) == 30 and suite.metric == "math"
    for item in suite.items:
        n = int(item["answer"])
        assert 0 <= n <= 999
        assert score(f"Hence \\boxed{{{n:03d}}}", item["answer"])[0] == {"math": 1.0}
        assert score(f"Hence \\boxed{{{n + 1}}}", item["answer"])[0] == {"math": 0.0}


class _Answers:
    """A backend that writes the given solutions."""

    def __init__(self, texts):
        self.texts, self.asked = texts, {}

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        self.asked = {"n": len(prompts), "max_new_tokens": max_new_tokens, "stop": stop}
        return list(self.texts)


def test_runner_scores_generations_with_the_math_scorer():
    suite = load_suite("math500_sample")
    items = suite.items[:3]
    backend = _Answers([f"Thus \\boxed{{{items[0]['answer']}}}.", "The answer is \\boxed{-12345}.",
                        "I give up."])
    scored = runner._generation_chunk(suite, items, backend, 0, None)
    assert backend.asked == {"n": 3, "max_new_tokens": 1024, "stop": []}
    assert [metrics for metrics, _ in scored] == [{"math": 1.0}, {"math": 0.0}, {"math": 0.0}]
    assert [detail["extracted"] for _, detail in scored] == [items[0]["answer"], "-12345", None]
    assert all(detail["method"] == "generation" and detail["output"] for _, detail in scored)
    assert runner.run_config(suite, None, 0)["scorer"] == "math"
