"""The contamination check finds suite items planted in a training corpus, and nothing else."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from dokja.harness.contamination import ContaminationError, check, is_korean, item_text, units
from dokja.harness.sealed import new_canary
from dokja.harness.suite import load_suite

CORPUS = Path(__file__).resolve().parents[2] / "src/dokja/demo/corpus/kobest_train_ko.txt"


@pytest.fixture(scope="module")
def filler() -> list[str]:
    """Real Korean training text (the demo corpus), as the bulk a team's data sample would hold."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return random.Random(0).sample(lines, 3000)


def test_planted_korean_items_are_flagged_and_only_they(tmp_path, filler):
    suite = load_suite("kobbq")
    planted = [suite.items[i] for i in (3, 40, 77)]
    lines = list(filler)
    for k, item in enumerate(planted):  # copied with other spacing and punctuation, as scraped text would be
        text = item_text(item).replace("\n", " ").replace(" ", "  ").replace("?", "")
        lines.insert(500 * (k + 1), f"오늘의 글. {text} 이상입니다.")
    (tmp_path / "sample.txt").write_text("\n".join(lines), encoding="utf-8")
    report = check(suite.id, suite.items, [tmp_path], threshold=0.5)
    assert report.korean and report.n == 20
    assert [o.item_id for o in report.flagged] == sorted(it["id"] for it in planted)
    assert all(o.fraction == 1.0 for o in report.flagged)
    clean = [o for o in report.items if o.item_id not in {it["id"] for it in planted}]
    assert max(o.fraction for o in clean) < 0.2 and report.documents == 3003 and not report.too_short


def test_partial_copy_gives_a_partial_fraction_and_jsonl_records_stand_alone(tmp_path, filler):
    suite = load_suite("kobbq")
    item = suite.items[10]
    text = item_text(item)
    half = text[: len(text) // 2]
    with gzip.open(tmp_path / "part.jsonl.gz", "wt", encoding="utf-8") as f:
        for line in filler[:200]:
            f.write(json.dumps({"text": line, "meta": "x"}, ensure_ascii=False) + "\n")
        f.write(json.dumps({"text": half}, ensure_ascii=False) + "\n")
        f.write(json.dumps({"text": text[len(text) // 2:]}, ensure_ascii=False) + "\n")  # split: no gram spans both
    report = check(suite.id, suite.items, [tmp_path / "part.jsonl.gz"], threshold=0.9)
    (overlap,) = [o for o in report.items if o.item_id == item["id"]]
    assert 0.3 < overlap.fraction < 0.95 and report.documents == 202
    assert item["id"] not in [o.item_id for o in report.flagged]


def test_english_items_by_words_and_template_grams_ignored(tmp_path):
    items = [{"id": f"q{i}", "context": f"Question: In the story number {i}, which {w} did the old sailor carry "
              f"across the frozen northern sea?\nAnswer:", "choices": ["a lamp", "a map"], "answer": i % 2}
             for i, w in enumerate(["box", "coin", "rope", "book", "knife"])]
    corpus = tmp_path / "web.txt"
    corpus.write_text("Some blog post. So what did the old sailor carry across the frozen northern sea? "
                      "Nobody knows.\nQuestion: In the story number 3, which book did the old sailor carry\n"
                      "across the frozen northern sea? Answer: a lamp\n", encoding="utf-8")
    report = check("en", items, [corpus], n=8, threshold=0.8)
    assert not report.korean and report.n == 8
    assert [o.item_id for o in report.flagged] == ["q3"]  # the text runs on across lines
    assert all(o.matched == 0 for o in report.items if o.item_id != "q3")  # shared template is not evidence


def test_canary_in_the_data_is_reported(tmp_path):
    canary = new_canary()
    (tmp_path / "leak.jsonl").write_text(json.dumps({"body": f"copied suite {canary} end"}) + "\n")
    report = check("s", [{"id": "a", "prompt": "hello there", "answer": "x"}], [tmp_path / "leak.jsonl"])
    assert report.canaries == {canary} and report.too_short == ["a"]


def test_units_and_language():
    assert units("서울은 한국의, 수도!", korean=True) == list("서울은한국의수도")
    assert units("The  Capital, of FRANCE.", korean=False) == ["the", "capital", "of", "france"]
    assert is_korean(["질문: 누가 먼저 왔습니까? Answer"]) and not is_korean(["What is it? 네"])


def test_bad_data_is_one_line(tmp_path):
    with pytest.raises(ContaminationError, match="no such file"):
        check("s", [], [tmp_path / "absent.txt"])
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\n{broken\n')
    with pytest.raises(ContaminationError, match=r"bad.jsonl:2: not valid JSON"):
        check("s", [], [tmp_path / "bad.jsonl"])
