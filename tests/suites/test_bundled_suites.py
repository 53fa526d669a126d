"""Every bundled suite keeps the on-disk contract, checked with plain tomllib/json (no Dokja code)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

SUITES = Path(__file__).resolve().parents[2] / "src" / "dokja" / "suites"
DIRS = sorted(p for p in SUITES.iterdir() if p.is_dir() and (p / "suite.toml").is_file()) if SUITES.is_dir() else []
EXPECTED = {"kobest_copa", "kobest_boolq", "kobest_hellaswag", "kobbq", "ko_math", "en_math", "en_knowledge", "ko_knowledge"}


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_expected_suites_present():
    assert EXPECTED <= {p.name for p in DIRS}


@pytest.mark.parametrize("suite", DIRS, ids=lambda p: p.name)
def test_suite_contract(suite: Path):
    meta = tomllib.loads((suite / "suite.toml").read_text(encoding="utf-8"))
    assert meta["id"] == suite.name
    assert meta["title_en"] and meta["title_ko"]
    assert meta["language"] in ("ko", "en")
    assert meta["category"] in ("knowledge", "math", "reading", "reasoning", "safety", "instruction", "code", "agent")
    assert meta["kind"] in ("multiple_choice", "generate")
    scorer = meta.get("scorer")
    metrics = {"math": ("math",), "ifeval": ("prompt_strict",), "code": ("pass@1",), "calls": ("accuracy",),
               "rubric": ("rubric", "win_rate"), "agent": ("success",)}.get(scorer) or (
        ("acc", "acc_norm") if meta["kind"] == "multiple_choice" else ("exact_match", "numeric"))
    assert meta["metric"] in metrics
    assert isinstance(meta["num_fewshot"], int) and meta["num_fewshot"] >= 0
    assert isinstance(meta["target_delimiter"], str) and isinstance(meta["fewshot_delimiter"], str)
    if meta["kind"] == "generate":
        assert meta["generate"]["max_new_tokens"] > 0 and isinstance(meta["generate"]["stop"], list)
    source = meta["source"]
    assert source["name"] and source["licence"] and source["notes"]

    items = jsonl(suite / "items.jsonl")
    zero_shot = scorer in ("ifeval", "code", "calls", "rubric", "agent")  # instructions, code, tools, judged
    fewshot = jsonl(suite / "fewshot.jsonl") if (suite / "fewshot.jsonl").exists() or not zero_shot else []
    assert items
    if not zero_shot:
        assert 5 <= len(fewshot) <= 10 and meta["num_fewshot"] <= len(fewshot)
    for group in (items, fewshot):
        ids = [it["id"] for it in group]
        assert len(ids) == len(set(ids)), "duplicate ids"
        for it in group:
            check_item(it, meta["kind"], scorer)
    assert not {it["id"] for it in items} & {it["id"] for it in fewshot}, "few-shot ids overlap items"
    text = "context" if meta["kind"] == "multiple_choice" else "prompt"
    assert not {it[text] for it in items} & {it[text] for it in fewshot}, "few-shot prompts overlap items"


def check_item(it: dict, kind: str, scorer: str | None = None) -> None:
    if scorer == "code":  # a function's tests (HumanEval, MBPP) or stdin → stdout cases (LiveCodeBench)
        assert {"id", "prompt"} <= set(it) and ("test" in it or "cases" in it), it["id"]
        text = it["prompt"]
    elif scorer == "calls":  # OpenAI-shape tools and BFCL's accepted calls ([] when no function fits)
        assert {"id", "prompt", "answer", "category", "tools", "ground_truth"} <= set(it), it["id"]
        assert it["tools"] and all(t["type"] == "function" and t["function"]["name"] for t in it["tools"]), it["id"]
        assert isinstance(it["ground_truth"], list), it["id"]
        text = it["prompt"]
    elif scorer == "agent":  # a scripted user, the initial tables, the turn limit and the expected final tables
        assert {"id", "prompt", "answer", "max_turns", "database", "expected"} <= set(it), it["id"]
        assert set(it) <= {"id", "prompt", "answer", "user_turns", "max_turns", "database", "expected",
                           "answer_contains", "actions"}, it["id"]
        assert isinstance(it["max_turns"], int) and it["max_turns"] >= 1, it["id"]
        assert all(isinstance(t, str) and t.strip() for t in it.get("user_turns", [])), it["id"]
        for tables in (it["database"], it["expected"]):
            assert all(isinstance(rows, list) and all(isinstance(r, dict) for r in rows) for rows in tables.values())
        text = it["prompt"]
    elif scorer == "ifeval":
        assert {"id", "prompt", "instruction_id_list", "kwargs"} <= set(it), it["id"]
        text = it["prompt"]
    elif scorer == "rubric" and "followups" in it:  # a conversation: later turns and their references
        assert set(it) == {"id", "category", "prompt", "answer", "followups", "followup_answers"}, it["id"]
        assert it["followups"] and len(it["followups"]) == len(it["followup_answers"]), it["id"]
        texts = [it["answer"], *it["followups"], *it["followup_answers"]]
        assert all(isinstance(t, str) and t.strip() for t in texts), it["id"]
        text = it["prompt"]
    elif kind == "multiple_choice":
        assert set(it) == {"id", "context", "choices", "answer"}, it["id"]
        text = it["context"]
        assert len(it["choices"]) >= 2 and all(isinstance(c, str) and c.strip() for c in it["choices"]), it["id"]
        assert len(set(it["choices"])) == len(it["choices"]), it["id"]
        assert isinstance(it["answer"], int) and 0 <= it["answer"] < len(it["choices"]), it["id"]
    else:
        assert set(it) - {"metadata"} == {"id", "prompt", "answer"}, it["id"]
        text = it["prompt"]
        assert isinstance(it["answer"], str) and it["answer"].strip(), it["id"]
    assert isinstance(text, str) and text.strip(), it["id"]
    assert text == text.rstrip(), f"{it['id']}: prompt ends in whitespace"


@pytest.mark.parametrize("suite", DIRS, ids=lambda p: p.name)
def test_notice_and_licence(suite: Path):
    meta = tomllib.loads((suite / "suite.toml").read_text(encoding="utf-8"))
    notice = (suite / "NOTICE.md").read_text(encoding="utf-8")
    licence = meta["source"]["licence"]
    assert licence in notice
    if licence == "MIT":  # third-party MIT data must carry its licence text
        assert "Permission is hereby granted" in (suite / "LICENSE").read_text(encoding="utf-8")
    if licence == "CC-BY-SA-4.0":
        assert "creativecommons.org/licenses/by-sa/4.0" in notice


@pytest.mark.parametrize("suite", [p for p in DIRS if p.name.endswith("_math")], ids=lambda p: p.name)
def test_numeric_answers_are_integers(suite: Path):
    for it in jsonl(suite / "items.jsonl") + jsonl(suite / "fewshot.jsonl"):
        assert it["answer"].lstrip("-").isdigit(), it


@pytest.mark.parametrize("suite", [p for p in DIRS if p.name.endswith("_knowledge")], ids=lambda p: p.name)
def test_knowledge_answer_positions_balanced(suite: Path):
    answers = [it["answer"] for it in jsonl(suite / "items.jsonl")]
    counts = [answers.count(i) for i in range(4)]
    assert max(counts) - min(counts) <= 1, counts


def test_kobbq_balanced_between_ambiguous_and_disambiguated():
    ids = [it["id"] for it in jsonl(SUITES / "kobbq" / "items.jsonl")]
    assert sum("-amb-" in i for i in ids) == sum("-dis-" in i for i in ids) == len(ids) // 2
