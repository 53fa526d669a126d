"""Pairwise judging against the reference with the positions swapped: a verdict counts only if it survives the
swap, an unreadable reply fails the item, and every item keeps the judge's name, prompts and raw replies."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from dokja.harness import evaluate, load_suite
from dokja.harness.judge_pairwise import outcome_of, parse_verdict
from dokja.harness.suite import SuiteError
from dokja.models.base import Failed
from dokja.store import open_store
from dokja.store import schema as db

ITEMS = [
    {"id": "sum", "prompt": "3 + 4는 얼마인가요?", "answer": "3 + 4 = 7입니다."},
    {"id": "capital", "prompt": "대한민국의 수도는 어디인가요?", "answer": "대한민국의 수도는 서울입니다."},
]
COMPLETE = {"sum": ("7", "더하면"), "capital": ("서울",)}  # the words a complete answer to each item has


def write_suite(root, items=ITEMS, judge='mode = "pairwise"', metric="win_rate"):
    root.mkdir(exist_ok=True)
    (root / "suite.toml").write_text(f"""id = "pair"
title_en = "Pairwise"
title_ko = "쌍대 비교"
language = "ko"
category = "instruction"
kind = "generate"
scorer = "rubric"
metric = "{metric}"
num_fewshot = 0

[generate]
max_new_tokens = 16
stop = []

[judge]
model = "package:smollm2-135m-instruct"
{judge}
""", encoding="utf-8")
    (root / "items.jsonl").write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items),
                                      encoding="utf-8")
    return load_suite(root)


class ScriptedModel:
    """Stand-in for the model under evaluation: fixed answers, one per question."""

    def __init__(self, answers: dict[str, str]):
        self.answers, self.name, self.chat = answers, "scripted-model", True

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        return [next(a for q, a in self.answers.items() if q in str(p)) for p in prompts]


class FirstPositionJudge:
    """A judge with a position bias: whatever it reads, assistant A is better."""

    def __init__(self):
        self.name, self.chat, self.prompts = "first-position-judge", True, []

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        self.prompts += prompts
        return ["두 답변을 비교했습니다. [[A]]" for _ in prompts]


class BetterAnswerJudge:
    """A judge that reads both answers and prefers the more complete one: the one with more of the words a
    full answer to the question has."""

    def __init__(self):
        self.name, self.chat = "better-answer-judge", True

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        return [self._verdict(p) for p in prompts]

    @staticmethod
    def _verdict(prompt: str) -> str:
        words = COMPLETE["sum"] if "3 + 4" in prompt else COMPLETE["capital"]
        a, b = (sum(w in re.search(rf"어시스턴트 {x}: (.*?)\n\[어시스턴트 {x}와의 대화 끝", prompt, re.S).group(1)
                    for w in words) for x in "AB")
        return "A가 더 충실합니다. [[A]]" if a > b else "최종 판정: [[B]]" if b > a else "비슷합니다. [[C]]"


class ScriptedJudge:
    """A judge whose replies are fixed, one per request in order (a `Failed` is a judge that gave up)."""

    def __init__(self, replies):
        self.replies, self.name, self.chat = list(replies), "scripted-judge", True

    def generate(self, prompts, *, max_new_tokens, stop, progress=None):
        return [self.replies.pop(0) for _ in prompts]


def run(sqlite_url, suite, model, judge):
    sessions = open_store(sqlite_url)
    with sessions.begin() as s:
        row = s.merge(db.Model(name=model.name, kind="endpoint", location="stand-in", chat=True))
    out = evaluate(sessions, row, suite, lambda: model, judge=lambda: judge)
    with sessions.begin() as s:
        results = s.execute(select(db.Item.key, db.Result.metrics, db.Result.detail)
                            .join(db.Item, db.Item.id == db.Result.item_id).where(db.Result.run_id == out.run_id)
                            .order_by(db.Item.position)).all()
    return out, {key: (metrics, detail) for key, metrics, detail in results}


@pytest.mark.parametrize("reply, verdict", [
    ("Assistant A is more accurate.\n[[A]]", "A"),
    ("[[B]]", "B"),
    ("Both are equally good. [[C]]", "C"),
    ("처음엔 [[A]]라고 생각했지만 다시 보니 [[B]]", "B"),
    ("어시스턴트 B가 더 낫습니다.", "B"),
    ("최종 판정: A", "A"),
    ("두 답변이 비슷합니다. [[동점]]", "C"),
    ("Final verdict: tie", "C"),
    ("The verdict is a tie.", "C"),
    ("[Final answer: C]\n\nBoth answers are correct.", "C"),
    ("최종 답: B", "B"),
    ("［［Ａ］］", "A"),
    (" B. ", "B"),
    ("The verdict is ambiguous.", None),
    ("잘 모르겠습니다.", None),
    ("Both assistants answered.", None),
    ("Output [[A]] if assistant A is better, [[B]] if assistant B is better, [[C]] for a tie.", None),
    ("어시스턴트 A가 낫다면 [[A]], 어시스턴트 B가 낫다면 [[B]], 비슷하다면 [[C]].", None),
    ("어시스턴트 A가 낫다면 [[A]], B가 낫다면 [[B]]입니다. 제 판정은 [[B]]", "B"),
])
def test_verdicts_are_read_robustly(reply, verdict):
    assert parse_verdict(reply) == verdict


@pytest.mark.parametrize("as_a, as_b, outcome", [
    ("A", "B", "win"), ("B", "A", "loss"), ("C", "C", "tie"),
    ("A", "A", "inconsistent"), ("B", "B", "inconsistent"), ("A", "C", "inconsistent"), ("C", "A", "inconsistent"),
])
def test_a_verdict_counts_only_if_it_survives_the_swap(as_a, as_b, outcome):
    assert outcome_of(as_a, as_b) == outcome


def test_a_judge_that_always_says_a_finds_every_item_inconsistent_never_a_win(tmp_path, sqlite_url):
    suite = write_suite(tmp_path / "pair")
    judge = FirstPositionJudge()
    out, results = run(sqlite_url, suite, ScriptedModel({"3 + 4": "7입니다.", "수도": "부산입니다."}), judge)
    assert out.summary["n"] == 2 and out.summary["failed"] == 0
    assert out.summary["win_rate"]["mean"] == 0.5 and out.summary["consistent"]["mean"] == 0.0
    for metrics, detail in results.values():
        assert metrics == {"win_rate": 0.5, "consistent": 0.0}
        assert detail["judge"]["turns"] == [{"model_as_a": "A", "model_as_b": "A", "outcome": "inconsistent"}]
    assert len(judge.prompts) == 4  # each item asked twice


def test_a_judge_that_prefers_the_better_answer_wins_in_both_orders(tmp_path, sqlite_url):
    suite = write_suite(tmp_path / "pair")
    out, results = run(sqlite_url, suite, ScriptedModel({"3 + 4": "3과 4를 더하면 7입니다.", "수도": "부산입니다."}),
                       BetterAnswerJudge())
    right, wrong = results["sum"], results["capital"]
    assert right[0] == {"win_rate": 1.0, "consistent": 1.0}
    assert right[1]["judge"]["turns"] == [{"model_as_a": "A", "model_as_b": "B", "outcome": "win"}]
    assert wrong[0] == {"win_rate": 0.0, "consistent": 1.0}  # the reference is better: a loss in both orders
    assert wrong[1]["judge"]["turns"][0]["outcome"] == "loss"
    assert out.summary["win_rate"]["mean"] == 0.5
    first, second = right[1]["judge"]["prompts"]
    assert first.index("3과 4를 더하면") < first.index("3 + 4 = 7입니다.")  # the model's answer shown as A
    assert second.index("3 + 4 = 7입니다.") < second.index("3과 4를 더하면")  # then as B


def test_unreadable_replies_fail_the_item_and_records_keep_model_prompts_and_replies(tmp_path, sqlite_url):
    suite = write_suite(tmp_path / "pair")
    replies = ["[[A]]", "I cannot decide between them.", "[[A]]", Failed("HTTP 503 after 4 tries")]
    out, results = run(sqlite_url, suite, ScriptedModel({"3 + 4": "7", "수도": "서울"}), ScriptedJudge(replies))
    assert out.summary["n"] == 0 and out.summary["failed"] == 2 and "win_rate" not in out.summary
    (m1, d1), (m2, d2) = results["sum"], results["capital"]
    assert m1 == {} and d1["failed"] == "the judge gave no readable verdict"
    assert m2 == {} and d2["failed"] == "the judge failed: HTTP 503 after 4 tries"
    record = d1["judge"]
    assert record["model"] == "scripted-judge" and record["mode"] == "pairwise"
    assert record["replies"] == ["[[A]]", "I cannot decide between them."]
    assert len(record["prompts"]) == 2 and all("3 + 4는 얼마인가요?" in p for p in record["prompts"])
    assert d2["judge"]["replies"] == ["[[A]]", None] and d2["judge"]["errors"] == ["", "HTTP 503 after 4 tries"]


def test_score_mode_records_the_prompt_and_reply_too(tmp_path, sqlite_url):
    suite = write_suite(tmp_path / "score", judge='rubric = "instruction_following"\nscale = [1, 5]', metric="rubric")
    out, results = run(sqlite_url, suite, ScriptedModel({"3 + 4": "7", "수도": "서울"}),
                       ScriptedJudge(["점수: 5", "Score: 3"]))
    assert out.summary["rubric"]["mean"] == pytest.approx((1.0 + 0.5) / 2)
    record = results["sum"][1]["judge"]
    assert record == {"model": "scripted-judge", "mode": "score", "prompts": [record["prompts"][0]],
                      "replies": ["점수: 5"], "turns": [{"score": 1.0}]}
    assert "채점 기준" in record["prompts"][0] and "참고 답안:\n3 + 4 = 7입니다." in record["prompts"][0]


@pytest.mark.parametrize("items, judge, metric, message", [
    ([{"id": "x", "prompt": "질문", "answer": ""}], 'mode = "pairwise"', "win_rate",
     r"items\.jsonl: item x: answer: pairwise judging compares with a reference"),
    (ITEMS, 'mode = "duel"', "win_rate", r"suite\.toml: judge\.mode: 'duel' is not one of score, pairwise"),
    (ITEMS, 'mode = "pairwise"', "rubric", r"suite\.toml: metric: judge\.mode 'pairwise' gives win_rate"),
    (ITEMS, 'mode = "score"', "rubric", r"suite\.toml: judge\.rubric must be set"),
])
def test_a_suite_the_judge_cannot_grade_is_refused_naming_file_and_field(tmp_path, sqlite_url, items, judge,
                                                                         metric, message):
    with pytest.raises(SuiteError, match=message):  # refused when the suite is read, before anything runs
        suite = write_suite(tmp_path / "bad", items, judge, metric)
        run(sqlite_url, suite, ScriptedModel({"": "답"}), FirstPositionJudge())
