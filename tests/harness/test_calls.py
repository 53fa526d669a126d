"""Function calling scored as BFCL's AST checker does: golden cases from BFCL's own accepted answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from dokja.harness import SuiteError, evaluate, load_suite
from dokja.harness.calls import Call, check_calls, from_bfcl, normalise, parse_calls, score, tool_prompt
from dokja.harness.suite import BUNDLED
from dokja.store import open_store
from dokja.store import schema as db

BFCL = Path(__file__).resolve().parents[3] / "shared" / "data" / "bfcl"
SUITE = load_suite("bfcl_sample")
ITEMS = {it["id"]: it for it in SUITE.items}
HCF = ITEMS["simple_python_20"]  # math.hcf(number1=36, number2=24)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def passes(item: dict, text: str) -> bool:
    return score(item, text)[0]["accuracy"] == 1.0


def reason(item: dict, text: str) -> str:
    return score(item, text)[1]["reason"]


def test_every_bundled_items_own_answer_passes_and_the_categories_are_there():
    counts = {c: sum(it["category"] == c for it in SUITE.items) for c in ("simple", "multiple", "parallel",
                                                                          "irrelevance")}
    assert counts == {"simple": 8, "multiple": 6, "parallel": 4, "irrelevance": 6}
    for it in SUITE.items:
        metrics, detail = score(it, it["answer"])
        assert metrics == {"accuracy": 1.0, f"accuracy_{it['category']}": 1.0}, (it["id"], detail)
        assert it["prompt"] == tool_prompt(it["tools"], it["prompt"].rsplit("Request: ", 1)[1])


def test_a_correct_call_passes_and_a_wrong_one_fails_with_its_reason():
    assert passes(HCF, "[math.hcf(number1=36, number2=24)]")
    assert passes(HCF, "[math_hcf(number2=24, number1=36)]")  # dots become underscores in some APIs
    assert reason(HCF, "[math.hcf(number1=36, number2=25)]") == (
        "math.hcf: parameter 'number2': 25 is not among the accepted [24]")
    assert reason(HCF, "[math.hcf(number1=36)]") == "math.hcf: required parameter 'number2' is missing"
    assert reason(HCF, "[math.hcf(number1=36, number2=24, number3=12)]") == (
        "math.hcf: unexpected parameter 'number3'")
    assert reason(HCF, "[math.gcd(number1=36, number2=24)]") == "called 'math.gcd', expected 'math.hcf'"
    assert reason(HCF, '[math.hcf(number1=36, number2="24")]') == (
        "math.hcf: parameter 'number2': expected integer, got str '24'")
    assert reason(HCF, "Sure! The answer is 12.") == "no function call in the answer"
    assert reason(HCF, "[math.hcf(number1=36, number2=24), math.hcf(number1=24, number2=36)]") == (
        "expected 1 call(s), got 2")


def test_strings_are_compared_after_bfcls_normalisation_and_optional_parameters_may_be_left_out():
    assert normalise("April 1, 2024") == normalise("april 1 2024") == "april12024"
    item = ITEMS["simple_python_197"]  # get_air_quality_index(location="San Diego", time="12pm")
    accepted = item["ground_truth"][0]["get_air_quality_index"]
    assert accepted == {"location": ["San Diego"], "time": ["12pm", "12:00"]}
    assert passes(item, '[get_air_quality_index(location="san-diego", time="12:00")]')
    assert not passes(item, '[get_air_quality_index(location="Los Angeles", time="12pm")]')
    optional = ITEMS["multiple_55"]  # stock_forecast(company="Google", days=3), model="" may be left out
    assert optional["ground_truth"][0]["stock_forecast"]["model"] == ["", "regression"]
    assert passes(optional, '[stock_forecast(company="GOOG", days=3)]')
    assert passes(optional, '[stock_forecast(company="Google", days=3, model="regression")]')
    assert reason(optional, '[weather_forecast(location="Google", days=3)]') == (
        "called 'weather_forecast', expected 'stock_forecast'")


def test_an_integer_stands_for_a_number_but_not_the_other_way_round():
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {
        "x": {"type": "number"}, "n": {"type": "integer"}, "xs": {"type": "array", "items": {"type": "string"}},
        "d": {"type": "object"}}, "required": ["x"]}}}]
    truth = [{"f": {"x": [2.0], "n": [3, ""], "xs": [["a b", "c"], ""], "d": [{"k": ["v"], "o": ["", 1]}, ""]}}]
    item = {"id": "t", "tools": tools, "ground_truth": truth}
    assert passes(item, "[f(x=2)]") and passes(item, "[f(x=2.0, n=3)]")
    assert reason(item, "[f(x=2.0, n=3.0)]") == "f: parameter 'n': expected integer, got float 3.0"
    assert passes(item, '[f(x=2, xs=["A-B", "c"])]') and not passes(item, '[f(x=2, xs=["c", "a b"])]')
    assert reason(item, "[f(x=2, xs=[1, 2])]") == "f: parameter 'xs': item 1 is not string"
    assert passes(item, '[f(x=2, d={"k": "V"})]') and passes(item, '[f(x=2, d={"k": "v", "o": 1})]')
    assert not passes(item, '[f(x=2, d={"k": "v", "z": 1})]') and not passes(item, '[f(x=2, d={"o": 1})]')


def test_parallel_calls_match_in_any_order_and_every_one_must_match():
    item = ITEMS["parallel_24"]
    truth = item["ground_truth"]
    calls = [f"{name}({', '.join(f'{k}={v[0]!r}' for k, v in args.items() if v[0] != '')})"
             for expected in truth for name, args in expected.items()]
    assert len(calls) >= 2
    assert passes(item, f"[{', '.join(calls)}]") and passes(item, f"[{', '.join(reversed(calls))}]")
    assert reason(item, f"[{calls[0]}]") == f"expected {len(calls)} call(s), got 1"
    assert not passes(item, f"[{', '.join([calls[0]] * len(calls))}]")  # one call cannot answer twice


def test_irrelevance_passes_only_when_no_call_is_made():
    item = ITEMS["irrelevance_64"]
    assert item["ground_truth"] == []
    name = item["tools"][0]["function"]["name"]
    assert passes(item, "None of the functions can answer this.") and passes(item, "[]")
    assert reason(item, f"[{name}()]") == "made 1 call(s) where no function fits"
    assert score(item, f"[{name}()]")[1]["calls"] == [{"name": name, "arguments": {}}]


def test_both_answer_forms_are_read_bare_fenced_or_inside_text():
    want = [Call("math.hcf", {"number1": 36, "number2": 24})]
    assert parse_calls("[math.hcf(number1=36, number2=24)]") == want
    assert parse_calls("math.hcf(number1=36, number2=24)") == want
    assert parse_calls("Here you go: [math.hcf(number1=36, number2=24)] Hope it helps.") == want
    assert parse_calls('[{"name": "math.hcf", "arguments": {"number1": 36, "number2": 24}}]') == want
    assert parse_calls('```json\n{"name": "math.hcf", "parameters": {"number1": 36, "number2": 24}}\n```') == want
    assert parse_calls('{"tool_calls": [{"type": "function", "function": {"name": "math.hcf", '
                       '"arguments": "{\\"number1\\": 36, \\"number2\\": 24}"}}]}') == want
    assert parse_calls("[f(a=(1, 2), b={'k': [True, None]}, c=-1.5, d=unit)]") == [
        Call("f", {"a": [1, 2], "b": {"k": [True, None]}, "c": -1.5, "d": "unit"})]
    assert parse_calls("[]") == []
    for bad in ("I cannot help with that.", "[f(1, 2)]", "[f(a=g(1))]", "[math.hcf(number1=36, number2=",
                "[1, 2]", '{"name": 3}', ""):
        assert parse_calls(bad) is None, bad
    assert check_calls(None, HCF["tools"], []) is None


def test_an_item_without_tools_or_accepted_calls_is_refused_in_one_line():
    with pytest.raises(SuiteError, match="item x: a calls item needs a 'tools' list and a 'ground_truth' list"):
        score({"id": "x", "prompt": "p", "answer": ""}, "[]")


def test_the_sample_is_bfcls_data_converted_as_documented():
    assert "Apache License" in (BUNDLED / "bfcl_sample" / "LICENSE").read_text(encoding="utf-8")
    if not BFCL.is_dir():
        pytest.skip(f"BFCL data not found under {BFCL}")
    files = {"simple": "simple_python", "multiple": "multiple", "parallel": "parallel", "irrelevance": "irrelevance"}
    for category, name in files.items():
        rows = {r["id"]: r for r in jsonl(BFCL / f"BFCL_v4_{name}.json")}
        answers = {} if category == "irrelevance" else {
            r["id"]: r["ground_truth"] for r in jsonl(BFCL / "possible_answer" / f"BFCL_v4_{name}.json")}
        for it in (it for it in SUITE.items if it["category"] == category):
            assert it == from_bfcl(rows[it["id"]], answers.get(it["id"], []), category)


class Capped:
    """The real model, answering in a few tokens so the test stays quick on two CPU cores."""

    def __init__(self, model):
        self.model, self.name, self.chat = model, "smol-capped", True

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        return self.model.generate(prompts, max_new_tokens=min(max_new_tokens, 24), stop=stop)


def test_a_real_small_model_runs_the_sample_through_the_runner(tmp_path, smollm2_dir):
    from dokja.models.local import TransformersModel

    sessions = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    with sessions.begin() as s:
        model = s.merge(db.Model(name="smol", kind="hf", location=str(smollm2_dir), chat=True))
    backend = Capped(TransformersModel(smollm2_dir, chat=True))
    outcome = evaluate(sessions, model, SUITE, lambda: backend, limit=2)
    assert outcome.computed == 2 and outcome.summary["n"] == 2 and outcome.summary["failed"] == 0
    assert 0.0 <= outcome.summary["accuracy"]["mean"] <= 1.0
    with sessions.begin() as s:
        rows = s.scalars(select(db.Result).where(db.Result.run_id == outcome.run_id)).all()
        assert len(rows) == 2
        for row in rows:
            assert set(row.metrics) == {"accuracy", "accuracy_simple"}
            assert isinstance(row.detail["output"], str) and "calls" in row.detail
            assert row.detail["method"] == "generation"
            assert (row.metrics["accuracy"] == 0.0) == ("reason" in row.detail)
