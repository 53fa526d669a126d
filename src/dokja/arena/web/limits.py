"""Rate limits: at most so many events per key (a visitor's token, an address) in a sliding window."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-minute allowances. Prompts cost the server a generation, so they are the scarce ones."""

    prompts_per_visitor: int = 10
    prompts_per_address: int = 60
    votes_per_visitor: int = 30
    votes_per_address: int = 600
    new_visitors_per_address: int = 30  # fresh signed tokens one address may get; caps made-up identities
    max_prompt_chars: int = 2000
    window_s: float = 60.0


class Window:
    """Counts recent events per key; ``allow`` records the event only if it fits."""

    def __init__(self, limit: int, window_s: float = 60.0):
        self.limit, self.window_s = limit, window_s
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 100_000:
                self._sweep(now)
            return True

    def _sweep(self, now: float) -> None:
        for key in [k for k, e in self._events.items() if not e or e[-1] <= now - self.window_s]:
            del self._events[key]
