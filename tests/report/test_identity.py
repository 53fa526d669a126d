"""The report says whether the arena stayed blind: the de-anonymisation check's result, with its warning."""

from __future__ import annotations

import random

from dokja.arena.deanon import Authored, deanon_check
from dokja.report import render_stage_report

from .test_report import text_of

WORDS = "서울 부산 하늘 바다 나무 학교 사람 시간 오늘 내일 우리 생각 이야기 문제 답변 질문".split()


def answers(tell: str | None, n: int = 60, seed: int = 0) -> list[Authored]:
    """Two models answering alike, one of them signing its answers with `tell` when given."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        for model in ("alpha", "beta"):
            text = " ".join(rnd.choice(WORDS) for _ in range(12))
            out.append(Authored(model, f"{text} {tell}" if tell and model == "alpha" else text))
    return out


def test_a_model_that_signs_its_answers_is_warned_about(sample):
    found = deanon_check(answers("— 알파 드림"))
    assert found.warning and found.accuracy > 0.9 and found.line == 0.75  # two models: halfway to certain
    text = text_of(render_stage_report(sample, identity=found))
    assert "Did the arena stay blind?" in text and "아레나는 블라인드였는가?" in text
    assert f"{found.accuracy * 100:.0f}% of the time, against 50% by chance" in text
    assert "Warning: the answers give their model away" in text


def test_answers_without_a_tell_are_below_the_line_and_no_check_means_no_section(sample):
    found = deanon_check(answers(None))
    assert found.warning is None
    text = text_of(render_stage_report(sample, identity=found))
    assert "Below the warning line (75%)" in text and "Warning: the answers give their model away" not in text
    assert "Did the arena stay blind?" not in text_of(render_stage_report(sample))
