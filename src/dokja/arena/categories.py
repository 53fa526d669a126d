"""A simple, documented prompt classifier for per-category leaderboards.

Language: the share of Hangul among the prompt's letters; 30% or more is Korean (Korean
prompts often carry English terms), otherwise a Latin majority is English, anything else
"other". Category: "coding" when the prompt shows code or asks about programming, "math"
when it asks for a calculation or proof, otherwise "general". Keyword lists are short and
public on purpose: anyone can check why a vote landed in a category.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["LANGUAGES", "CATEGORIES", "classify", "language_of", "category_of"]

LANGUAGES = ("ko", "en", "other")
CATEGORIES = ("coding", "math", "general")

_CODE_MARKS = re.compile(
    r"```|^\s*(?:def|class|import|from\s+\S+\s+import|#include|public\s+static|function|const|let|var)\b"
    r"|\b(?:SELECT\s+.+\s+FROM|console\.log|printf|System\.out|std::|=>|\w+\(\)\s*[{;])",
    re.M | re.I)
_CODE_WORDS = re.compile(
    r"\b(?:python|java(?:script)?|typescript|c\+\+|rust|golang|sql|html|css|regex|api|bug|debug|compile[rd]?|"
    r"function|algorithm|code|coding|program(?:ming)?|script|stack\s*trace|exception|git|docker|json)\b"
    r"|코드|코딩|함수|프로그래밍|프로그램|알고리즘|디버그|디버깅|버그|컴파일|파이썬|자바스크립트|자바|정규식|깃허브|에러\s*메시지",
    re.I)
_MATH_WORDS = re.compile(
    r"\b(?:solve|equation|integral|derivative|calculate|compute|probability|prove|proof|theorem|"
    r"sum of|product of|how many|percent(?:age)?|fraction|algebra|geometry|matrix|prime|factorial|math)\b"
    r"|수학|계산|방정식|적분|미분|확률|증명|몇\s*개|몇\s*명|퍼센트|분수|기하|행렬|소수|합은|곱은|구하시오|구하라|풀어",
    re.I)
_ARITHMETIC = re.compile(r"\d\s*[-+*/×÷^=<>]\s*\(?\d|\d\s*%|[√∑∫π]|\bx\s*\^\s*\d|\d+\s*x\b")


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f"


def language_of(text: str) -> str:
    """"ko" when at least 30% of letters are Hangul, "en" when most are Latin, else "other"."""
    letters = [ch for ch in unicodedata.normalize("NFC", text) if ch.isalpha()]
    if not letters:
        return "other"
    hangul = sum(map(_is_hangul, letters))
    latin = sum(1 for ch in letters if ch.isascii())
    if hangul >= 0.3 * len(letters):
        return "ko"
    if latin > 0.5 * len(letters):
        return "en"
    return "other"


def category_of(text: str) -> str:
    """"coding", "math" or "general": code marks or programming words first, then calculation words."""
    if _CODE_MARKS.search(text) or _CODE_WORDS.search(text):
        return "coding"
    if _MATH_WORDS.search(text) or _ARITHMETIC.search(text):
        return "math"
    return "general"


def classify(prompt: str) -> tuple[str, str]:
    """(language, category) of a prompt."""
    return language_of(prompt), category_of(prompt)
