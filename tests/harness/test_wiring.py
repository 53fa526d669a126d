"""Scorers wired into suites: one number extractor, regex and letter extraction, lettered prompts, sealed suites."""

from __future__ import annotations

import shutil

import pytest

from dokja.harness import SuiteError, load_suite, prompts, scoring
from dokja.harness.suite import BUNDLED


@pytest.mark.parametrize("text, number", [
    ("First 3 + 4 = 7, then #### 72", 72.0), ("답은 1,234원입니다.", 1234.0), ("GPT-4 says 42.", 42.0),
    ("It is −3.5", -3.5), ("no number", None),
])
def test_one_number_extractor_prefers_the_gsm8k_marker(text, number):
    assert scoring.extract_number(text) == number


def test_regex_scorer_matches_only_what_the_pattern_picks():
    metrics, found = scoring.regex_generation("풀이: 2+2=4\n답: 4", "4", r"답:\s*(\d+)")
    assert found == "4" and metrics == {"exact_match": 1.0, "numeric": 1.0}
    assert scoring.regex_generation("4", "4", r"답:\s*(\d+)") == ({"exact_match": 0.0, "numeric": 0.0}, None)


def test_letter_scoring_and_lettered_prompts():
    suite = load_suite("ko_knowledge")
    item = suite.items[0]
    text = prompts.letter_prompt(suite, item, 1)
    shot = suite.fewshot[0]
    assert text.startswith(prompts.LETTER_INSTRUCTION["ko"])
    assert f"A. {shot['choices'][0]}" in text and f"정답: {'ABCD'[shot['answer']]}\n\n" in text
    assert text.endswith(f"D. {item['choices'][3]}\n정답:")
    assert scoring.letter_choice("정답은 D입니다.", 4, 3) == ({"acc": 1.0, "acc_norm": 1.0, "acc_bytes": 1.0}, 3)
    assert scoring.letter_choice("모르겠습니다", 4, 3)[1] is None


def test_a_sealed_suite_directory_opens_only_with_the_key(tmp_path, monkeypatch):
    from dokja.harness import sealed

    shutil.copytree(BUNDLED / "kobest_copa", tmp_path / "copa")
    key = sealed.new_key()
    sealed.seal(tmp_path / "copa", key)
    assert not (tmp_path / "copa" / "items.jsonl").exists()
    monkeypatch.delenv(sealed.KEY_ENV, raising=False)
    with pytest.raises(SuiteError, match=r"items\.sealed: suite is sealed") as info:
        load_suite(tmp_path / "copa")
    assert "\n" not in str(info.value)
    monkeypatch.setenv(sealed.KEY_ENV, sealed.encode_key(key))
    opened = load_suite(tmp_path / "copa")
    clear = load_suite("kobest_copa")
    assert [{k: v for k, v in it.items() if k != "canary"} for it in opened.items] == clear.items
