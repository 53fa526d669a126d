"""Scorers: pure functions from model outputs to per-item metrics, and the statistics over them."""

from __future__ import annotations

import math
import re
import unicodedata

from .extract import answer_letter, last_number, regex_answer


def multiple_choice(logprobs: list[float], choices: list[str], answer: int) -> dict[str, float]:
    """acc: highest log-likelihood; acc_norm: per character; acc_bytes: per UTF-8 byte."""
    best = max(range(len(choices)), key=lambda i: logprobs[i])
    per_char = [lp / max(len(c), 1) for lp, c in zip(logprobs, choices)]
    per_byte = [lp / max(len(c.encode()), 1) for lp, c in zip(logprobs, choices)]
    return {
        "acc": float(best == answer),
        "acc_norm": float(max(range(len(choices)), key=lambda i: per_char[i]) == answer),
        "acc_bytes": float(max(range(len(choices)), key=lambda i: per_byte[i]) == answer),
    }


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return re.sub(r"\s+", " ", text).strip(" .。")


def exact_match(output: str, answer: str) -> float:
    return float(normalise(output) == normalise(answer))


def extract_number(output: str) -> float | None:
    """The final numeric answer as a number (`extract.last_number`: GSM8K's "####" first, else the last number)."""
    found = last_number(output)
    if found is None:
        return None
    try:
        return float(found)
    except ValueError:
        return None


def numeric_match(output: str, answer: str) -> float:
    got, want = extract_number(output), extract_number(answer)
    return float(got is not None and want is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9))


def generation(output: str, answer: str) -> dict[str, float]:
    return {"exact_match": exact_match(output, answer), "numeric": numeric_match(output, answer)}


def regex_generation(output: str, answer: str, pattern: str) -> tuple[dict[str, float], str | None]:
    """The suite's pattern picks the answer out of the output (its first group), then it is matched."""
    found = regex_answer(output, pattern)
    if found is None:
        return {"exact_match": 0.0, "numeric": 0.0}, None
    return generation(found, answer), found


def letter_choice(output: str, n_choices: int, answer: int) -> tuple[dict[str, float], int | None]:
    """A generated option letter scored as multiple choice; every accuracy variant is the same hit."""
    chosen = answer_letter(output, n_choices)
    hit = float(chosen == answer)
    return {"acc": hit, "acc_norm": hit, "acc_bytes": hit}, chosen


def mean_and_stderr(values: list[float]) -> tuple[float, float]:
    """Mean and its standard error (sample standard deviation over sqrt(n))."""
    n = len(values)
    if n == 0:
        return float("nan"), float("nan")
    mean = sum(values) / n
    if n == 1:
        return mean, float("nan")
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)
