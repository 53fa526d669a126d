"""The identity check: a model with a signature phrase is recognised; models writing alike are not."""

from __future__ import annotations

import numpy as np
import pytest

from dokja.arena.deanon import Authored, deanon_check, ngram_buckets

WORDS = ("the model answers each question with care and some detail about rivers mountains cities history "
         "numbers people language weather food music science reason because therefore also often").split()
KOREAN = "서울 부산 강 산 역사 음식 음악 과학 날씨 사람 언어 숫자 그래서 또한 자주 때문에".split()
MODELS = ["hanbit-ko-1.0", "dasan-ko-0.2", "nuri-ko-0.5", "saebyeok-ko-0.3"]


def answers(per_model: int, seed: int, tell: dict[str, str] | None = None) -> list[Authored]:
    """Every model draws from the same words; a model in ``tell`` ends its answers with its phrase."""
    rng = np.random.default_rng(seed)
    out = []
    for k in range(per_model):
        for m in MODELS:
            vocab = WORDS if k % 2 else KOREAN
            text = " ".join(rng.choice(vocab, int(rng.integers(15, 40))))
            if tell and m in tell:
                text += " " + tell[m]
            out.append(Authored(m, text))
    return out


def test_a_signature_phrase_gives_the_model_away():
    found = deanon_check(answers(40, seed=0, tell={"nuri-ko-0.5": "도움이 되었기를 바랍니다!"}))
    assert found.chance == 0.25 and found.answers == 160 and found.folds == 5
    assert found.per_model["nuri-ko-0.5"] >= 0.95
    # the other three write alike: about a third of theirs right, so overall about (1 + 3/3) / 4
    assert 0.4 <= found.accuracy <= 0.62
    assert found.pvalue < 1e-6
    assert found.warning is None or "give their model away" in found.warning
    assert any(t in "도움이 되었기를 바랍니다!" for t in found.tells["nuri-ko-0.5"][:2])


def test_every_model_with_a_tell_raises_the_warning():
    tells = {m: f"— {name} says" for m, name in zip(MODELS, ["Sun", "Moon", "Star", "Sky"])}
    found = deanon_check(answers(25, seed=1, tell=tells))
    assert found.accuracy > 0.95
    assert found.warning and "named correctly against 25% by chance" in found.warning


def test_models_writing_alike_stay_near_chance_and_raise_no_warning():
    found = deanon_check(answers(50, seed=2))
    assert abs(found.accuracy - 0.25) < 0.12
    assert found.pvalue > 0.001
    assert found.warning is None


def test_a_check_is_reproducible_and_ignores_the_order_of_models():
    data = answers(12, seed=3, tell={"dasan-ko-0.2": "Hope this helps."})
    first, again = deanon_check(data, seed=7), deanon_check(list(data), seed=7)
    assert first == again
    assert set(first.per_model) == set(MODELS)
    assert list(first.tells) == ["dasan-ko-0.2"]  # only a model that is recognised has tells to show


def test_ngram_buckets_count_every_occurrence():
    assert ngram_buckets("ab", sizes=(1,)).size == 4  # the text padded with a space each side
    assert ngram_buckets("ab", sizes=(2,)).size == 3
    a, b = ngram_buckets("한국어 답변"), ngram_buckets("한국어 답변")
    assert np.array_equal(a, b) and a.min() >= 0 and a.max() < 2 ** 18


def test_too_few_answers_are_refused_in_one_line():
    with pytest.raises(ValueError, match="at least two models"):
        deanon_check([Authored("a", "x"), Authored("a", "y")])
    with pytest.raises(ValueError, match="at least 2 answers per model"):
        deanon_check([Authored("a", "x"), Authored("a", "y"), Authored("b", "z")])


def test_the_warning_line_is_reachable_for_any_number_of_models():
    from dokja.arena.deanon import warning_line

    assert warning_line(1 / 2) == 0.75  # two models: twice chance would be certainty, so halfway to it
    assert warning_line(1 / 3) == pytest.approx(2 / 3)
    assert warning_line(1 / 4) == warning_line(1 / 10) == 0.5  # more than half, at least
