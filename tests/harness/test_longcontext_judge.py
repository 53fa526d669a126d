"""Long-context retrieval items and the rubric judge's score parsing: pure functions over plain data."""

from __future__ import annotations

import pytest

from dokja.harness import longcontext
from dokja.harness.judge import RUBRICS, Rubric, judge_prompt, parse_score


def test_passkey_items_are_deterministic_and_hide_the_key_at_the_asked_depth():
    a = longcontext.items("passkey", [400, 2000], [0.0, 0.5, 1.0], per_cell=2, seed=7, language="ko")
    assert a == longcontext.items("passkey", [400, 2000], [0.0, 0.5, 1.0], per_cell=2, seed=7, language="ko")
    assert a != longcontext.items("passkey", [400, 2000], [0.0, 0.5, 1.0], per_cell=2, seed=8, language="ko")
    assert len(a) == 12 and len({it["id"] for it in a}) == 12
    for it in a:
        body = it["prompt"].split("\n\n")[1]
        assert "풀은 푸르다." in body and it["answer"].isdigit() and len(it["answer"]) == 5
        at = body.index(f"비밀번호는 {it['answer']}입니다.")
        assert abs(at / len(body) - it["depth"]) < 0.15
        assert it["length"] * 0.8 <= len(body) <= it["length"] + 80
        assert it["prompt"].endswith("답: 비밀번호는")


def test_needle_items_in_english_ask_for_the_place_they_hide():
    (it,) = longcontext.items("needle", [1500], [0.3], language="en")
    place = it["prompt"].rsplit("magic number for ", 1)[1].removesuffix(" is")
    assert f"The special magic number for {place} is {it['answer']}." in it["prompt"]


@pytest.mark.parametrize("spec, message", [
    ({"name": "haystack", "lengths": [10]}, "name: 'haystack' is not"),
    ({"name": "passkey", "lengths": [0]}, "lengths: "),
    ({"name": "passkey", "lengths": [100], "depths": [1.5]}, "depths: "),
    ({"name": "passkey", "lengths": [100], "colour": "red"}, "colour: unknown setting"),
])
def test_generator_settings_out_of_range_are_named(spec, message):
    with pytest.raises(longcontext.LongContextError, match=message):
        longcontext.generate_items(spec)


@pytest.mark.parametrize("reply, score", [
    ("The answer follows every instruction.\nScore: 9", 9.0),
    ("Rating: [[7]]", 7.0),
    ("**Score:** 4/10", 4.0),
    ("I first thought Score: 3, but on reflection Score: 6", 6.0),
    ("10점 만점에 8점입니다.", 8.0),
    ("점수: 5", 5.0),
    (" 2. ", 2.0),
    ("Score: 42", None),
    ("The answer is fine.", None),
])
def test_judge_scores_are_read_robustly(reply, score):
    assert parse_score(reply, 1, 10) == score


def test_rubric_from_a_suite_uses_built_in_rubrics_in_the_suite_language():
    rubric = Rubric.from_meta({"rubric": "safety_refusal", "scale": [1, 5]}, "ko")
    assert rubric.text == RUBRICS["safety_refusal"]["ko"] and (rubric.low, rubric.high) == (1, 5)
    prompt = judge_prompt(rubric, "질문", "답", "참고")
    assert "참고 답안:\n참고" in prompt and "1점부터 5점까지" in prompt
    with pytest.raises(ValueError, match="judge.scale"):
        Rubric.from_meta({"rubric": "x", "scale": [5, 1]}, "en")
