"""Multi-turn conversations: the model answers turn by turn, the second turn given the first answer; the judge
grades every turn (the second given the first); the item's score is their mean, each turn's kept."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from dokja.harness import evaluate, load_suite
from dokja.harness.multiturn import check_suite, conversation, turns_of
from dokja.harness.suite import SuiteError
from dokja.models.base import Failed
from dokja.models.local import TransformersModel
from dokja.store import open_store
from dokja.store import schema as db

ITEMS = [
    {"id": "shop", "category": "수학", "prompt": "공책 3권은 3,600원입니다. 한 권은 얼마인가요?", "answer": "1,200원입니다.",
     "followups": ["그럼 5권은 얼마인가요?"], "followup_answers": ["6,000원입니다."]},
    {"id": "poem", "category": "글쓰기", "prompt": "봄에 대한 시를 한 줄 써 주세요.", "answer": "",
     "followups": ["방금 쓴 시에 제목을 붙여 주세요."]},
]


def write_suite(root, items=ITEMS, scorer="rubric"):
    root.mkdir(exist_ok=True)
    (root / "suite.toml").write_text(f"""id = "talk"
title_en = "Conversations"
title_ko = "대화"
language = "ko"
category = "instruction"
kind = "generate"
scorer = "{scorer}"
metric = "rubric"
num_fewshot = 0

[generate]
max_new_tokens = 16
stop = []

[judge]
model = "package:smollm2-135m-instruct"
rubric = "conversation"
scale = [1, 10]
""", encoding="utf-8")
    (root / "items.jsonl").write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items),
                                      encoding="utf-8")
    return load_suite(root)


class TurnModel:
    """Stand-in for the model under evaluation: says which turn it answers (thinking first), and keeps every
    conversation it was sent; `failing` turns of questions containing a word come back `Failed`."""

    def __init__(self, failing: dict[str, int] | None = None):
        self.name, self.chat, self.sent, self.failing = "turn-model", True, [], failing or {}

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        self.sent += prompts
        return [self._answer(p) for p in prompts]

    def _answer(self, messages: list[dict]):
        turn = sum(m["role"] == "user" for m in messages)
        if any(w in messages[0]["content"] and turn == t for w, t in self.failing.items()):
            return Failed("HTTP 503 after 4 tries")
        return f"<think>turn {turn}</think>{messages[0]['content'][:4]}-답{turn}"


class TurnJudge:
    """A judge that gives turn 1 a 10 and turn 2 a 4, seeing from the prompt whether earlier turns come first."""

    def __init__(self):
        self.name, self.chat, self.prompts = "turn-judge", True, []

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        self.prompts += prompts
        return ["점수: 4점" if "사용자:" in p else "Score: [[10]]" for p in prompts]  # an earlier turn shown


def run(sqlite_url, suite, model, judge, **options):
    sessions = open_store(sqlite_url)
    with sessions.begin() as s:
        row = s.scalar(select(db.Model).where(db.Model.name == model.name)) or s.merge(
            db.Model(name=model.name, kind="hf", location="local", chat=True))
    out = evaluate(sessions, row, suite, lambda: model, judge=lambda: judge, **options)
    with sessions.begin() as s:
        results = s.execute(select(db.Item.key, db.Result.metrics, db.Result.detail)
                            .join(db.Item, db.Item.id == db.Result.item_id).where(db.Result.run_id == out.run_id)
                            .order_by(db.Item.position)).all()
        status = s.get(db.Run, out.run_id).status
    return out, {key: (metrics, detail) for key, metrics, detail in results}, status


def test_a_conversation_carries_each_earlier_answer_before_the_next_question():
    assert conversation(["q1", "q2"], ["a1"], "be brief") == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"}]


def test_the_second_turn_is_asked_after_the_first_answer_and_both_turns_are_judged(tmp_path, sqlite_url):
    model, judge = TurnModel(), TurnJudge()
    out, results, _ = run(sqlite_url, write_suite(tmp_path / "talk"), model, judge)
    second = [m for m in model.sent if len(m) == 3]
    assert len(model.sent) == 4 and len(second) == 2
    assert second[0] == [{"role": "user", "content": ITEMS[0]["prompt"]},
                         {"role": "assistant", "content": "공책 3-답1"},  # the answer without its thinking
                         {"role": "user", "content": "그럼 5권은 얼마인가요?"}]
    metrics, detail = results["shop"]
    assert metrics == {"rubric": pytest.approx((1.0 + 1 / 3) / 2), "rubric_turn1": 1.0,
                       "rubric_turn2": pytest.approx(1 / 3)}
    assert [t["output"] for t in detail["turns"]] == ["공책 3-답1", "공책 3-답2"]
    assert detail["turns"][0]["thinking"] == "turn 1"
    record = detail["judge"]
    assert record["model"] == "turn-judge" and record["replies"] == ["Score: [[10]]", "점수: 4점"]
    turn2 = record["prompts"][1]
    assert "앞선 대화" in turn2 and "공책 3-답1" in turn2 and "공책 3-답2" in turn2 and "6,000원입니다." in turn2
    assert "참고 답안" not in results["poem"][1]["judge"]["prompts"][1]  # no reference given: none shown
    assert out.summary["rubric_turn2"]["mean"] == pytest.approx(1 / 3)


def test_a_failed_turn_fails_the_item_and_a_resume_asks_again(tmp_path, sqlite_url):
    suite = write_suite(tmp_path / "talk")
    out, results, _ = run(sqlite_url, suite, TurnModel(failing={"봄에": 2}), TurnJudge())
    assert out.summary["n"] == 1 and out.summary["failed"] == 1
    metrics, detail = results["poem"]
    assert metrics == {} and detail["failed"] == "HTTP 503 after 4 tries" and "judge" not in detail
    assert detail["turns"][1] == {"question": "방금 쓴 시에 제목을 붙여 주세요.", "failed": "HTTP 503 after 4 tries"}
    again, results, status = run(sqlite_url, suite, TurnModel(), TurnJudge())
    assert again.computed == 1 and again.summary["n"] == 2 and status == "finished"
    assert results["poem"][0]["rubric_turn1"] == 1.0


@pytest.mark.parametrize("change, scorer, message", [
    ({"followups": "그럼?"}, "rubric", r"items\.jsonl: item shop: followups: expected a list of non-empty texts"),
    ({"followup_answers": ["a", "b"]}, "rubric", r"items\.jsonl: item shop: followup_answers: expected one text"),
    ({}, "exact_match", r"suite\.toml: scorer: multi-turn items \(followups\) are judged"),
])
def test_bad_conversations_are_refused_naming_file_and_field(tmp_path, sqlite_url, change, scorer, message):
    with pytest.raises(SuiteError, match=message):  # refused when the suite is read, before anything runs
        suite = write_suite(tmp_path / "bad", [{**ITEMS[0], **change}, ITEMS[1]], scorer)
        run(sqlite_url, suite, TurnModel(), TurnJudge())


class Recording:
    """The real model, with every prompt it was sent kept, so a test can read what the second turn saw."""

    def __init__(self, model: TransformersModel):
        self.model, self.name, self.chat, self.sent = model, model.name, True, []

    def generate(self, prompts, **options):
        self.sent += prompts
        return self.model.generate(prompts, **options)


SHORT = [  # short turns, so the real model's run takes seconds
    {"id": "add", "category": "math", "prompt": "What is 2 + 3?", "answer": "5.",
     "followups": ["And times 4?"], "followup_answers": ["20."]},
    {"id": "word", "category": "writing", "prompt": "Name a fruit.", "answer": "An apple.",
     "followups": ["What colour is it?"], "followup_answers": ["Red or green."]},
]


def test_smollm2_answers_and_judges_a_two_item_multi_turn_pairwise_run(tmp_path, sqlite_url, smollm2_dir):
    """Two conversations answered by SmolLM2 and judged pairwise against their references by SmolLM2 itself."""
    written = write_suite(tmp_path / "talk", SHORT)
    suite = dataclasses.replace(written, meta={
        **written.meta, "language": "en", "metric": "win_rate", "generate": {"max_new_tokens": 6, "stop": []},
        "judge": {**written.meta["judge"], "mode": "pairwise", "max_new_tokens": 6}})
    smol = TransformersModel(smollm2_dir, name="smollm2-135m", chat=True)
    model = Recording(smol)
    out, results, status = run(sqlite_url, suite, model, smol)
    assert status == "finished" and out.computed == 2 and len(results) == 2
    for item, (metrics, detail) in zip(SHORT, results.values()):
        first, second = (t["output"] for t in detail["turns"])
        asked = next(m for m in model.sent if len(m) == 3 and m[0]["content"] == item["prompt"])
        assert asked[1] == {"role": "assistant", "content": first} and asked[2]["content"] == item["followups"][0]
        record = detail["judge"]
        assert record["model"] == "smollm2-135m" and record["mode"] == "pairwise"
        assert len(record["prompts"]) == len(record["replies"]) == 4  # two turns, each in both orders
        assert item["followup_answers"][0] in record["prompts"][2] and second in record["prompts"][2]
        assert set(metrics) == {"win_rate", "win_rate_turn1", "win_rate_turn2", "consistent"} or (
            detail["failed"] == "the judge gave no readable verdict")


def test_the_bundled_korean_sample_is_judged_in_either_mode():
    suite = load_suite("ko_multiturn_sample")
    check_suite(suite)
    check_suite(dataclasses.replace(suite, meta={**suite.meta, "metric": "win_rate",
                                                 "judge": {**suite.meta["judge"], "mode": "pairwise"}}))
    assert {it["category"] for it in suite.items} == {"추론", "수학", "글쓰기", "코딩", "이해", "문법"}
    assert all(len(turns_of(it)[0]) == 2 and all(turns_of(it)[1]) for it in suite.items)


def test_suite_show_prints_every_turn_with_its_reference():
    from typer.testing import CliRunner

    from dokja.cli import app

    result = CliRunner().invoke(app, ["suite", "show", "ko_multiturn_sample", "--items", "1"])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # the console wraps long lines
    first = load_suite("ko_multiturn_sample").items[0]
    assert " ".join(f"turn 2: {first['followups'][0]}".split()) in shown
    assert " ".join(f"→ {first['followup_answers'][0]}".split()) in shown
