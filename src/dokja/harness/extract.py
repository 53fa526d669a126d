"""Answer extraction from free-form model output: option letters and final numbers."""

from __future__ import annotations

import re
import unicodedata
from string import ascii_uppercase

# A letter standing alone as far as ASCII goes: Korean particles may touch it ("B입니다", "B가").
_ALONE_BEFORE = r"(?<![A-Za-z0-9'’])"
_ALONE_AFTER = r"(?![A-Za-z0-9'’])"
_OPTION = r"(?P<open>[\(\[])?(?P<letter>[A-Za-z])(?P<close>[\)\]])?" + _ALONE_AFTER

# Explicit statements, in either language. The letter follows the statement ...
_STATED_AFTER = re.compile(
    r"(?:\banswer(?:\s+(?:is|would\s+be|should\s+be|must\s+be))?|정답|답)"
    r"\s*(?:은|는|이|:|=|-|–)?\s*(?:(?:option|choice)\s+)?(?:is\s*)?:?\s*" + _ALONE_BEFORE + _OPTION,
    re.IGNORECASE,
)
# ... or precedes it: "B is correct", "C is the right answer", "B가 정답", "(B)번이 정답".
_STATED_BEFORE = re.compile(
    _ALONE_BEFORE + _OPTION + r"(?:\s*번)?\s*(?:(?:이|가)\s*(?:정답|맞)|is\s+(?:the\s+)?(?:correct|right)\b)",
)
_ONLY = re.compile(r"[\(\[]?([A-Za-z])[\)\]]? ?[.:)]?")
_LEADING = re.compile(r"(?:[\(\[]([A-Za-z])[\)\]]|([A-Z])[.:)\]])")
_STRAY = re.compile(_ALONE_BEFORE + r"([A-Z])" + _ALONE_AFTER)
# "A"/"I" starting an ordinary English phrase ("A good start", "I think") are not options.
_WORD_AFTER = re.compile(r"\s+([a-z]+)")
# A following verb or conjunction keeps it a candidate ("A is correct", "A or B").
_KEEP = {"is", "was", "seems", "looks", "would", "should", "must", "appears", "and", "or", "nor", "vs", "versus"}
_LOWER_OK_AFTER = re.compile(r"[ \t]*(?:$|[\n.,;:!?。])")


def _prepare(text: str) -> str:
    # NFKC turns full-width letters and brackets ("（Ｂ）") into ASCII; markdown bold is dropped.
    # Whitespace runs shrink to one character (a newline if they hold one), which also keeps the
    # patterns below linear on hostile input.
    text = unicodedata.normalize("NFKC", text).replace("*", "")
    return re.sub(r"\s+", lambda m: "\n" if "\n" in m.group() else " ", text).strip()


def answer_letter(text: str, n_choices: int) -> int | None:
    """The 0-based index of the option letter a chat model chose, or None.

    Only letters among the first ``n_choices`` (A, B, ...) count; others ("E" of four) are ignored.
    Text is NFKC-normalised first, so full-width "Ｂ" reads as "B". Precedence:

    1. An explicit statement: "Answer: B", "The answer is (C)", "정답: C", "정답은 B입니다",
       "B is correct", "B가 정답". When there are several, the last one wins (models correct
       themselves: "not A ... the answer is B").
    2. The whole reply is one letter: "B", "(b)", "B.".
    3. The reply starts with an option label: "B. Paris", "(B) Paris", "C) ...".
    4. Stray standalone capital letters anywhere: only if they all name the same option.

    Lowercase letters count only where they cannot be a word: bracketed "(b)", the whole reply,
    or after an explicit statement and followed by punctuation or the end ("answer is b.", but
    not "the answer is a bit unclear"). Returns None when nothing qualifies or stray letters
    disagree. Numbered answers ("2번") are not read.
    """
    if not 1 <= n_choices <= 26:
        raise ValueError(f"n_choices must be between 1 and 26, got {n_choices}")
    text = _prepare(text)
    valid = ascii_uppercase[:n_choices]

    def index(letter: str) -> int | None:
        up = letter.upper()
        return valid.index(up) if up in valid else None

    stated: list[tuple[int, int]] = []
    for pattern in (_STATED_AFTER, _STATED_BEFORE):
        for m in pattern.finditer(text):
            letter = m.group("letter")
            if bool(m.group("open")) != bool(m.group("close")):
                continue
            if letter.islower():
                bracketed = bool(m.group("open"))
                if not (bracketed or (pattern is _STATED_AFTER and _LOWER_OK_AFTER.match(text, m.end()))):
                    continue
            i = index(letter)
            if i is not None:
                stated.append((m.start("letter"), i))
    if stated:
        return max(stated)[1]

    m = _ONLY.fullmatch(text)
    if m:
        return index(m.group(1))

    m = _LEADING.match(text)
    if m:
        i = index(m.group(1) or m.group(2))
        if i is not None:
            return i

    found = set()
    for m in _STRAY.finditer(text):
        letter = m.group(1)
        if letter in "AI":
            w = _WORD_AFTER.match(text, m.end())
            if w and w.group(1) not in _KEEP:
                continue
        i = index(letter)
        if i is not None:
            found.add(i)
    return found.pop() if len(found) == 1 else None


def regex_answer(text: str, pattern: str | re.Pattern, group: int | str = 1) -> str | None:
    """The given group of the first match of ``pattern`` in ``text``, stripped; None if no match
    or the group did not take part. A string pattern is compiled without flags."""
    m = re.search(pattern, text)
    if m is None:
        return None
    value = m.group(group)
    return None if value is None else value.strip()


# A minus counts only when it is not a hyphen inside a word or range ("3-4", "GPT-4").
_NUMBER = r"(?:(?<![0-9A-Za-z])-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_HASHES = re.compile(r"####\s*(?:\$\s*)?(" + _NUMBER + r")")


def last_number(text: str) -> str | None:
    """The final numeric answer as a string, GSM8K style.

    The number after the last "####" if there is one, else the last number in the text.
    Thousands separators are removed ("1,234" -> "1234") and a trailing period is not part of
    the number ("42." -> "42"); decimals and a leading minus are kept ("-3.5"). Full-width digits
    and the Unicode minus sign are read. None if there is no number.
    """
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-")
    hashed = _HASHES.findall(text)
    found = hashed or _NUMBER_RE.findall(text)
    if not found:
        return None
    return found[-1].replace(",", "").rstrip(".")
