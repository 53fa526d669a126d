"""Reasoning models: their thinking kept apart from the answer that is scored, and the reducers over samples.

Thinking reaches the harness inside the generated text, as ``<think>…</think>`` blocks: models that think in
their output write it so, and the endpoint client wraps a server's separate ``reasoning_content`` the same way,
so every backend hands over one string and `split_thinking` recovers both parts. Scorers see only the answer.
"""

from __future__ import annotations

import math
import re
from typing import Callable, Hashable, Iterable, Sequence

_OPEN = re.compile(r"<think\s*>", re.IGNORECASE)
_CLOSE = re.compile(r"</think\s*>", re.IGNORECASE)


def split_thinking(text: str) -> tuple[str, str]:
    """``(thinking, answer)`` of a generated text.

    Every ``<think>…</think>`` block is thinking (several are joined by a blank line), whatever the case of the
    tags; an opening tag never closed (a model cut off while thinking) makes the rest thinking, so the answer
    is empty. A closing tag before any opening one (chat templates that open the block in the prompt) makes
    everything before it thinking. Text without tags is all answer, returned unchanged."""
    if not _OPEN.search(text) and not _CLOSE.search(text):
        return "", text
    thoughts: list[str] = []
    answer: list[str] = []
    pos = 0
    first_open, first_close = _OPEN.search(text), _CLOSE.search(text)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        thoughts.append(text[:first_close.start()])
        pos = first_close.end()
    while True:
        opened = _OPEN.search(text, pos)
        if opened is None:
            answer.append(text[pos:])
            break
        answer.append(text[pos:opened.start()])
        closed = _CLOSE.search(text, opened.end())
        if closed is None:
            thoughts.append(text[opened.end():])
            break
        thoughts.append(text[opened.end():closed.start()])
        pos = closed.end()
    thinking = "\n\n".join(t.strip() for t in thoughts if t.strip())
    return thinking, "".join(answer).strip()


def join_thinking(thinking: str, answer: str) -> str:
    """The one-string form `split_thinking` reads back: ``<think>thinking</think>answer`` (just the answer when
    there is no thinking)."""
    return f"<think>{thinking}</think>{answer}" if thinking else answer


# ---- samples and their reducers -------------------------------------------------------------------------

def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of Chen et al. (2021) from ``n`` samples of which ``c`` are correct:
    ``1 - C(n-c, k) / C(n, k)``, computed as the product ``prod_{i=n-c+1}^{n} (1 - k/i)`` so that large ``n``
    neither overflows nor loses precision."""
    if not (0 <= c <= n) or not (1 <= k <= n):
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def maj_at_k(answers: Sequence[str | None], gold_equal: Callable[[str], bool], k: int | None = None,
             key: Callable[[str], Hashable] = lambda a: a) -> float:
    """maj@k: 1.0 when the most frequent of the first ``k`` answers (all when ``k`` is None) is right.

    Answers that are None (nothing extracted) do not vote; ``key`` groups equivalent answers (a normaliser);
    a tie goes to the answer seen first, so the result does not depend on hashing order."""
    votes: dict[Hashable, list] = {}
    for position, answer in enumerate(answers[:k] if k is not None else answers):
        if answer is None:
            continue
        slot = votes.setdefault(key(answer), [0, position, answer])
        slot[0] += 1
    if not votes:
        return 0.0
    _, _, winner = max(votes.values(), key=lambda v: (v[0], -v[1]))
    return float(bool(gold_equal(winner)))


def mean(values: Iterable[float]) -> float:
    """The mean of the values; NaN for none."""
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else math.nan


def item_measures(text: str, thinking: str) -> dict:
    """What a per-item detail keeps beside the scored answer: the thinking (when there was some), and the
    request's tokens and latency where the backend measured them (`models.base.Generated`).

    ``answer_tokens`` is the completion less its reasoning tokens when the server counts those apart, or the
    whole completion when there was no thinking; otherwise it is unknown and left out."""
    out: dict = {}
    if thinking:
        out["thinking"] = thinking
    usage = getattr(text, "usage", None) or {}
    completion, reasoning = usage.get("completion_tokens"), usage.get("reasoning_tokens")
    if "prompt_tokens" in usage:
        out["prompt_tokens"] = int(usage["prompt_tokens"])
    if reasoning is not None:
        out["reasoning_tokens"] = int(reasoning)
    if completion is not None and reasoning is not None:
        out["answer_tokens"] = max(0, int(completion) - int(reasoning))
    elif completion is not None and not thinking:
        out["answer_tokens"] = int(completion)
    seconds = getattr(text, "seconds", None)
    if seconds is not None:
        out["seconds"] = round(float(seconds), 4)
    return out
