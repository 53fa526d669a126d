"""The small interface every model backend offers the harness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

Progress = Callable[[int], None] | None


@dataclass(frozen=True)
class Loglikelihood:
    """Log-probability of a continuation given its context, and whether greedy decoding would produce it."""

    logprob: float
    greedy: bool
    n_tokens: int


@dataclass(frozen=True)
class Failed:
    """An item the model could not answer after every retry; it stands in the item's place so the run goes on."""

    reason: str


class Generated(str):
    """Generated text (a plain `str` to every caller) that also carries what the backend measured for it:
    `usage` (the server's token counts for this request) and `seconds` (its latency; None from a cache)."""

    usage: dict
    seconds: float | None

    def __new__(cls, text: str, usage: dict | None = None, seconds: float | None = None):
        self = super().__new__(cls, text)
        self.usage, self.seconds = dict(usage or {}), seconds
        return self


class Backend(Protocol):
    name: str
    chat: bool

    def loglikelihood(self, requests: list[tuple[str, str]],
                      progress: Progress = None) -> list[Loglikelihood | Failed]: ...

    def generate(self, prompts: list[str], *, max_new_tokens: int, stop: list[str],
                 progress: Progress = None) -> list[str | Failed]: ...


def cut_at_stop(text: str, stop: list[str]) -> str:
    cut = len(text)
    for marker in stop:
        at = text.find(marker)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]
