import math

import pytest

from dokja.harness import scoring


def test_multiple_choice_acc_and_normalisations_can_disagree():
    m = scoring.multiple_choice([-4.0, -6.0], ["a", "much longer"], answer=1)
    assert m == {"acc": 0.0, "acc_norm": 1.0, "acc_bytes": 1.0}
    k = scoring.multiple_choice([-3.0, -4.5], ["가", "ab"], answer=1)  # 가 is 3 UTF-8 bytes
    assert (k["acc_norm"], k["acc_bytes"]) == (1.0, 0.0)


@pytest.mark.parametrize("output, answer, hit", [
    (" 42", "42", 1.0), ("3 + 4 = 7", "7", 1.0), ("답은 1,200원입니다.", "1200", 1.0),
    ("The answer is 8.0", "8", 1.0), ("７", "7", 1.0), ("no idea", "3", 0.0), ("-5", "5", 0.0),
])
def test_numeric_match(output, answer, hit):
    assert scoring.numeric_match(output, answer) == hit


def test_exact_match_normalises_case_space_and_final_period():
    assert scoring.exact_match("  Seoul. ", "seoul") == 1.0
    assert scoring.exact_match("Busan", "Seoul") == 0.0


def test_mean_and_stderr():
    mean, se = scoring.mean_and_stderr([1, 0, 1, 0])
    assert mean == 0.5 and se == pytest.approx(math.sqrt((4 * 0.25) / 3 / 4))
    assert math.isnan(scoring.mean_and_stderr([])[0])


def test_a_suite_with_duplicate_item_ids_is_refused_in_one_line(tmp_path):
    from dokja.harness import SuiteError, load_suite

    (tmp_path / "suite.toml").write_text('id = "d"\nkind = "multiple_choice"\nmetric = "acc"\n')
    item = '{"id": "q1", "context": "Q?", "choices": ["a", "b"], "answer": 0}\n'
    (tmp_path / "items.jsonl").write_text(item * 2)
    with pytest.raises(SuiteError, match="duplicate item id 'q1'"):
        load_suite(tmp_path)
