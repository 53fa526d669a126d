"""The small interface every model backend offers the harness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

Progress = Callable[[int], None] | None
# A prompt is a text, or a conversation: a list of ``{"role": ..., "content": ...}`` messages (system, user,
# assistant, tool), as OpenAI-compatible chat takes them. Multi-turn suites and agents send conversations; a
# backend renders one with the model's chat template (local) or sends it as `messages` (endpoint).
Prompt = str | list[dict]


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

    def generate(self, prompts: list[Prompt], *, max_new_tokens: int, stop: list[str],
                 progress: Progress = None) -> list[str | Failed]: ...


def render_plain(messages: list[dict]) -> str:
    """A conversation as plain text for a model without a chat template: one "Role: content" paragraph per
    message, ending with the assistant's cue."""
    lines = [f"{str(m.get('role', 'user')).capitalize()}: {m.get('content') or ''}" for m in messages]
    return "\n\n".join([*lines, "Assistant:"])


def cut_at_stop(text: str, stop: list[str]) -> str:
    cut = len(text)
    for marker in stop:
        at = text.find(marker)
        if at != -1:
            cut = min(cut, at)
    return text[:cut]
