"""Competition maths: the final answer read from a model's worked solution, and judged equal to the gold one.

`extract_answer` finds what the model gave as its answer; `equivalent` decides whether it is the gold answer
(math-verify: LaTeX or plain, fractions, roots, intervals, sets, tuples, percentages, units, thousands
separators); `score` does both for the runner (`scorer = "math"`, metric `math`).

Guarding against hostile output. math-verify's own time limit uses `signal.alarm`, which only works in the
main thread and counts whole seconds, so it is switched off here. Instead:

- every predicted answer is screened first: longer than `MAX_ANSWER_CHARS`, nested deeper than `MAX_DEPTH`,
  a tower of powers (`9^{9^{9^9}}`), a huge exponent, or a factorial, binomial or product of a huge number
  is not an answer and scores 0 at once (sympy would evaluate those in C, beyond any interruption);
- in the main thread, a `setitimer` alarm (fractions of a second allowed) bounds the whole comparison
  (`TIME_LIMIT`); in any other thread no alarm can be set, and the screen is the guard.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
import unicodedata
from decimal import Decimal, InvalidOperation

from .extract import last_number

MAX_ANSWER_CHARS = 300  # the longest MATH-500 answer is 53 characters
MAX_DEPTH = 10  # brackets and braces; MATH-500 answers nest at most 2 deep
TIME_LIMIT = 2.0  # seconds for one comparison, where an alarm can be set (the main thread)

# --------------------------------------------------------------------------- extraction

_BOXED = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
# "The (final) answer is X", "Answer: X", "정답은 X", "최종 답: X", "답: X" (not the 답 of 대답).
_STATED = re.compile(
    r"(?:\b(?:the\s+)?(?:final\s+)?answer\s*(?:is|would\s+be|will\s+be|=|:)"
    r"|(?:정답|최종\s*답|(?<![가-힣])답)\s*(?:은|는|:|=))"
    r"\s*:?[ \t]*",
    re.IGNORECASE,
)
_HASHES = re.compile(r"####[ \t]*([^\n]*)")
_SENTENCE_END = re.compile(r"[.。!?](?=\s|$)|\n")
_LEADING_MATH = re.compile(r"\$\$?([^$]+?)\$\$?|\\\((.+?)\\\)")
_KO_ENDING = re.compile(r"(?:입니다|이에요|예요|이다|이며|이고|임|요)$")


def _closing_braces(text: str) -> dict[int, int]:
    """For each `{` that closes, the index of its `}`: one pass, so hostile output costs linear time.
    Escaped braces (`\\{`, `\\}`) are contents, not structure."""
    closing, opened, i, n = {}, [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "{}":
            i += 2
            continue
        if ch == "{":
            opened.append(i)
        elif ch == "}" and opened:
            closing[opened.pop()] = i
        i += 1
    return closing


def last_boxed(text: str) -> str | None:
    """The contents of the last complete `\\boxed{...}` (or `\\fbox{...}`, or `\\boxed 5`), or None.

    Braces are balanced, so `\\boxed{\\frac{1}{2}}` gives `\\frac{1}{2}`. A box that never closes (the output
    was cut off) or is empty is passed over for the one before it."""
    boxes = list(_BOXED.finditer(text))
    if not boxes:
        return None
    closing = _closing_braces(text)
    for m in reversed(boxes):
        i = m.end()
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == "{":
            value = text[i + 1:closing[i]] if i in closing else None
        else:
            token = re.match(r"[^\s$]+", text[i:i + MAX_ANSWER_CHARS + 1])
            value = token.group() if token else None
        if value and value.strip():
            return value.strip()
    return None


def _clean_stated(value: str) -> str:
    """A stated answer up to the end of its sentence, without markdown, dollars or a Korean copula."""
    value = value.replace("**", "").strip()
    math = _LEADING_MATH.match(value)
    if math:  # "$x = 3$, so ..." or "\\(\\frac{1}{2}\\)."
        return (math.group(1) or math.group(2)).strip()
    m = _SENTENCE_END.search(value)
    if m:
        value = value[:m.start()]
    value = value.strip().rstrip(".。").strip()
    value = _KO_ENDING.sub("", value).strip()
    return _unwrap(value)


def _stated(text: str) -> str | None:
    """The answer after the last "the answer is" / "정답은" / "답:" that is followed by something."""
    for m in reversed(list(_STATED.finditer(text))):
        value = _clean_stated(text[m.end():m.end() + 4 * MAX_ANSWER_CHARS])
        if value:
            return value
    return None


def _hashed(text: str) -> str | None:
    """GSM8K's final line: what follows the last "####"."""
    for m in reversed(list(_HASHES.finditer(text))):
        value = _unwrap(m.group(1)[:4 * MAX_ANSWER_CHARS].strip().rstrip(".").strip())
        if value:
            return value
    return None


def extract_answer(text: str) -> str | None:
    """The final answer a model gave, as a string, or None.

    In order: the last `\\boxed{...}` / `\\fbox{...}` (balanced braces); else the last stated answer
    ("the answer is X", "Final answer: X", "정답은 X입니다", "답: X"), up to the end of its sentence;
    else the text after the last GSM8K "#### "; else the last number in the text (thousands separators
    dropped, a leading minus kept)."""
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-").replace("\u2044", "/")  # "½" is 1⁄2
    for find in (last_boxed, _stated, _hashed):
        found = find(text)
        if found:
            return found
    return last_number(text)


# --------------------------------------------------------------------------- normalising

_DOLLAR = re.compile(r"(?<!\\)\$")


def _unwrap(s: str) -> str:
    """Without the maths delimiters around it: `$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`."""
    s = s.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
            s = s[len(left):len(s) - len(right)].strip()
    if len(_DOLLAR.findall(s)) == 1:  # "$5" as money, or a delimiter left over from a cut sentence
        s = _DOLLAR.sub("", s).strip()
    return s


_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:(?P<sep>[, ])\d{3})(?:(?P=sep)\d{3})*(?:\.\d+)?")
_UNIT_TEXT = re.compile(r"\\(?:text|textbf|textrm|mathrm|mbox)\s*\{[^{}]*\}\s*$")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_ASSIGNED = re.compile(r"^[A-Za-z](?:_\{?\w+\}?)?\s*=\s*")
# A unit after the number: words after a space ("5 cm", "12 dollars"), or Korean straight after it ("42개").
_TRAILING_WORDS = re.compile(r"(?<=[\d.])(?:\s+[A-Za-z가-힣][A-Za-z가-힣\s.]*|\s*[가-힣][가-힣\s.]*)$")


def _as_number(s: str) -> Decimal | None:
    """A plain number, read leniently: units (`5\\text{ cm}`, `5 cm`, `42개`), money (`\\$5`), percent
    (`5\\%`), degrees, `x = 5`, thousands separators (`1,000`, `10,\\!080`, `1{,}000`) and a trailing
    `.0` are allowed around it. None if it is anything more than a number."""
    t = _unwrap(s)
    t = _UNIT_TEXT.sub("", t)
    t = t.replace("\\!", "").replace("{,}", ",").replace("\\,", "").replace("\\ ", "").replace("~", "")
    t = t.replace("\\$", "").replace("$", "").replace("\\%", "").replace("%", "")
    t = re.sub(r"\^\s*\{?\\circ\}?|°", "", t)
    t = _ASSIGNED.sub("", t.strip())
    t = _TRAILING_WORDS.sub("", t).strip().rstrip(".")
    t = re.sub(r"^([-+])\s+", r"\1", t)
    if _THOUSANDS.fullmatch(t):
        t = t.replace(",", "").replace(" ", "")
    if not _NUMBER.fullmatch(t):
        return None
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


def _canonical(s: str) -> str:
    """For the cheap identity test: no delimiters, no whitespace, `\\dfrac` as `\\frac`, no `\\left`/`\\right`."""
    s = _unwrap(s)
    s = re.sub(r"\\[dt]frac", r"\\frac", s)
    s = re.sub(r"\\left|\\right", "", s)
    return re.sub(r"(?<!\d)\s+|\s+(?!\d)", "", s).rstrip(".")  # "1 2" stays apart from "12"


# --------------------------------------------------------------------------- the screen

_POWER = r"(?:\^|\*\*)"
_TOWER = re.compile(_POWER + r"\s*[{(]+\s*[-+]?\d+\s*" + _POWER + r"|\d\s*" + _POWER + r"\s*\d+\s*" + _POWER)
_HUGE_EXPONENT = re.compile(_POWER + r"\s*[{(]*\s*[-+]?\d{6,}")
_FACTORIAL_OF_BIG = re.compile(r"\d{5,}\s*!")
_FACTORIAL_OF_GROUP = re.compile(r"[)}\]]\s*!")
_COMBINATORIAL = re.compile(r"\\[dt]?binom|\\choose|\\prod|\\Gamma|factorial|binomial", re.IGNORECASE)
_BIG_LITERAL = re.compile(r"\d{7,}")


def _depth(s: str) -> int:
    depth = deepest = 0
    for ch in s:
        if ch in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "})]":
            depth = max(depth - 1, 0)
    return deepest


def too_risky(answer: str) -> str | None:
    """Why a predicted answer is not worth handing to sympy (it could hang or exhaust memory), or None."""
    if len(answer) > MAX_ANSWER_CHARS:
        return f"longer than {MAX_ANSWER_CHARS} characters"
    if _depth(answer) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH}"
    compact = re.sub(r"\s+", "", answer)
    if _TOWER.search(compact):
        return "a tower of powers"
    if _HUGE_EXPONENT.search(compact):
        return "a huge exponent"
    if _FACTORIAL_OF_BIG.search(compact):
        return "a factorial of a huge number"
    if _COMBINATORIAL.search(compact) or _FACTORIAL_OF_GROUP.search(compact):
        if _BIG_LITERAL.search(compact) or re.search(_POWER, compact):
            return "a factorial, binomial or product of a huge number"
    return None


# --------------------------------------------------------------------------- the time limit

class _OutOfTime(BaseException):
    """Raised by the alarm; a BaseException so that math-verify's `except Exception` cannot swallow it."""


def _on_alarm(signum, frame):
    raise _OutOfTime()


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _within(seconds: float | None, work):
    """`work()`, or None if it ran past `seconds` (only enforced in the main thread: see the module notes).
    An alarm or handler already set by the caller is put back afterwards."""
    if not seconds or seconds <= 0 or not _can_alarm():
        return work()
    old_handler = signal.getsignal(signal.SIGALRM)
    try:
        signal.signal(signal.SIGALRM, _on_alarm)
    except ValueError:  # not the main interpreter
        return work()
    started = time.monotonic()
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return work()
    except _OutOfTime:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler if old_handler is not None else signal.SIG_DFL)
        if old_delay:
            left = old_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), old_interval)


# --------------------------------------------------------------------------- equivalence

class _DropTimeoutWarning(logging.Filter):
    """math-verify warns once that its own timeout is off; here that is deliberate (see the module notes)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Timeout is disabled")


_MV = None


def _math_verify():
    global _MV
    if _MV is None:
        import math_verify  # sympy is slow to import: only when an answer needs it

        for name in ("math_verify.parser", "math_verify.grader"):
            logging.getLogger(name).addFilter(_DropTimeoutWarning())
        _MV = math_verify
    return _MV


def _verify(predicted: str, gold: str) -> bool:
    mv = _math_verify()
    parsed_gold = mv.parse("\\boxed{" + gold + "}", parsing_timeout=None)
    parsed_pred = mv.parse("\\boxed{" + predicted + "}", parsing_timeout=None)
    if not parsed_gold or not parsed_pred:
        return False
    return bool(mv.verify(parsed_gold, parsed_pred, timeout_seconds=None))


def equivalent(predicted: str | None, gold: str, *, time_limit: float | None = TIME_LIMIT) -> bool:
    """Whether a predicted final answer equals the gold one.

    Plain numbers are compared exactly, read leniently (`_as_number`: units, money, percent, `x =`, thousands
    separators, leading zeros), so an integer gold such as an AIME answer is compared as an integer. Anything
    else goes to math-verify: `\\frac{1}{2}` = `0.5` = `1/2`, `\\sqrt{2}/2` = `\\frac{\\sqrt2}{2}`, intervals
    (`(1,2]`), sets (`\\{1,2\\}` in any order), tuples, expressions up to algebra, `x=3` = `3`, `10\\%` = `10`.
    A risky predicted answer (`too_risky`) is never equal; so is one that runs past `time_limit` seconds."""
    if predicted is None:
        return False
    predicted, gold = predicted.strip(), str(gold).strip()
    if not predicted or len(predicted) > MAX_ANSWER_CHARS:
        return False
    if _canonical(predicted) == _canonical(gold):
        return True
    got, want = _as_number(predicted), _as_number(gold)
    if got is not None and want is not None:
        if got == want:
            return True
        if got == got.to_integral_value() and want == want.to_integral_value():
            return False  # two different whole numbers: nothing for sympy to add
    if too_risky(predicted):
        return False
    try:
        return bool(_within(time_limit, lambda: _verify(_unwrap(predicted), _unwrap(gold))))
    except _OutOfTime:  # the alarm went off just as the comparison finished
        return False


def score(text: str, gold: str) -> tuple[dict[str, float], str | None]:
    """The runner's `math` scorer: `({"math": 1.0 or 0.0}, the extracted answer or None)`."""
    found = extract_answer(text)
    return {"math": float(equivalent(found, gold))}, found
