import time

import pytest

from dokja.harness.extract import answer_letter, last_number, regex_answer


@pytest.mark.parametrize(
    "text, want",
    [
        ("B", 1),
        ("(B)", 1),
        ("B.", 1),
        ("  c  ", 2),
        ("(b)", 1),
        ("Answer: B", 1),
        ("answer: d", 3),
        ("The answer is (C)", 2),
        ("The correct answer is C because 2+2=4.", 2),
        ("The answer is: **C**", 2),
        ("정답: C", 2),
        ("정답은 B입니다", 1),
        ("정답은 (D)입니다.", 3),
        ("B가 정답입니다.", 1),
        ("Ｂ", 1),
        ("（Ｃ）", 2),
        ("정답：Ｄ", 3),
        ("B. Paris is the capital.", 1),
        ("(A) Paris", 0),
        ("I think it is C", 2),
        ("A good question. B is correct.", 1),
        ("Let me think. A is wrong, and the answer is D.", 3),
        ("It is not A. The answer is B.", 1),
        ("Answer: A. Wait, no. The answer is C.", 2),
        ("답변: 이 문제의 정답은 A입니다. Because A fits.", 0),
        ("The answer is b.", 1),
    ],
)
def test_answer_letter(text, want):
    assert answer_letter(text, 4) == want


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "no letters here at all",
        "12345 !!! ???",
        "the answer is a bit unclear",  # lowercase article, not option a
        "Answer: E",  # out of range for four options
        "E",
        "A and B both look right",  # stray letters disagree
        "I think so.",
        "한국어로만 된 답변입니다",
    ],
)
def test_answer_letter_none(text):
    assert answer_letter(text, 4) is None


def test_answer_letter_range_and_precedence():
    assert answer_letter("Answer: E", 5) == 4
    # explicit statement beats a stray letter and an out-of-range statement
    assert answer_letter("Option B looks tempting. Answer: A", 4) == 0
    assert answer_letter("Answer: F. Really the answer is (B)", 4) == 1
    assert answer_letter("Answer: E. But C is plausible", 4) == 2  # falls back to the stray C
    with pytest.raises(ValueError):
        answer_letter("A", 0)


def test_answer_letter_hostile():
    long = "lorem ipsum dolor " * 50_000 + "정답은 C입니다 " + "x" * 100_000
    start = time.perf_counter()
    assert answer_letter(long, 4) == 2
    assert answer_letter("B" + " " * 200_000 + "x", 4) == 1
    assert answer_letter("a " * 100_000, 4) is None
    assert time.perf_counter() - start < 5
    assert answer_letter("Ｔｈｅ ａｎｓｗｅｒ ｉｓ Ｄ", 4) == 3
    assert answer_letter("Mixed 한국어 and English: 정답은 (a)", 4) == 0
    assert answer_letter("\x00\ufffd🙂 B 🙂", 4) == 1


def test_regex_answer():
    assert regex_answer("Final: 42 and Final: 7", r"Final:\s*(\d+)") == "42"
    assert regex_answer("x = hello ", r"x =(.*)") == "hello"
    assert regex_answer("nothing", r"Final: (\d+)") is None
    assert regex_answer("ab", r"(a)|(z)", group=2) is None
    assert regex_answer("Answer: B", r"Answer: (?P<l>[A-D])", group="l") == "B"


@pytest.mark.parametrize(
    "text, want",
    [
        ("so she has 3 + 4 = 7 apples.\n#### 7", "7"),
        ("#### 1,234", "1234"),
        ("The total is 1,234,567.", "1234567"),
        ("It costs $18. Then 42.", "42"),
        ("#### 42\nThen 99 more text", "42"),
        ("temperature is -3.5 degrees", "-3.5"),
        ("pages 3-4", "4"),
        ("the answer is −12", "-12"),
        ("ｔｏｔａｌ １２", "12"),
        ("####", None),
        ("#### none, but 5", "5"),
        ("no numbers", None),
        ("", None),
    ],
)
def test_last_number(text, want):
    assert last_number(text) == want


def test_last_number_hostile():
    assert last_number("1 " * 200_000 + "99") == "99"
    assert last_number("한국어 답: 3,000원입니다.") == "3000"
    assert last_number("#### $1,200") == "1200"
    start = time.perf_counter()
    assert last_number("#### " + " " * 200_000 + "x") is None
    assert last_number("-" * 100_000 + "7") == "-7"
    assert time.perf_counter() - start < 5
