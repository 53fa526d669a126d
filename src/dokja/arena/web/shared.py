"""Counters every worker of the site shares: rate limits, new visitors per address, floods of one prompt.

Each key's window opens with its first event and lasts ``window_s``; the count is incremented in one statement
(``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in the store, ``SET NX`` and ``INCR`` in one Redis transaction),
so several processes over one store count together and a restart forgets nothing. Refused events count too:
a client that keeps knocking stays refused until its window closes; a budget that should not be used up by
refusals (new visitors per subnet, where one knocker would lock out the neighbours) gives its events back.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import case, delete, select, update
from sqlalchemy.engine import Engine

from ..errors import ArenaError
from ..tables import Counter

SWEEP_EVERY_S = 60.0


class CountersError(ArenaError):
    """The shared counters cannot be reached as configured (e.g. a bad Redis URL)."""


@dataclass(frozen=True)
class Take:
    """One event to count: which counter, whose key, its allowance per window."""

    name: str
    key: str
    limit: int
    window_s: float


def short_key(text: str) -> str:
    """Keys of any length (a prompt) as a fixed-length digest; tokens and addresses fit as they are."""
    return text if len(text) <= 64 else hashlib.sha256(text.encode()).hexdigest()


class Counters(Protocol):
    def take(self, takes: list[Take], now: float | None = None) -> list[bool]:
        """Count every event; for each, whether it is within its limit."""

    def give_back(self, takes: list[Take], now: float | None = None) -> None:
        """Uncount events counted by ``take`` that were not admitted after all."""


class StoreCounters:
    """Counters in the store's ``arena_counter`` table: one upsert for all of a request's keys."""

    def __init__(self, engine: Engine):
        if engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        self.engine, self._insert = engine, insert
        self._swept = 0.0
        self._lock = threading.Lock()

    def take(self, takes: list[Take], now: float | None = None) -> list[bool]:
        now = time.time() if now is None else now
        rows = {(t.name, t.key): t for t in takes}
        stmt = self._insert(Counter).values([{"name": t.name, "key": t.key, "count": 1, "until": now + t.window_s}
                                             for t in rows.values()])
        closed = Counter.until <= now
        stmt = stmt.on_conflict_do_update(index_elements=["name", "key"], set_={
            "count": case((closed, 1), else_=Counter.count + 1),
            "until": case((closed, stmt.excluded.until), else_=Counter.until)})
        stmt = stmt.returning(Counter.name, Counter.key, Counter.count)
        with self.engine.begin() as conn:
            counts = {(n, k): c for n, k, c in conn.execute(stmt)}
        self._sweep(now)
        return [counts[t.name, t.key] <= t.limit for t in takes]

    def give_back(self, takes: list[Take], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self.engine.begin() as conn:
            for t in {(t.name, t.key): t for t in takes}.values():
                conn.execute(update(Counter).where(Counter.name == t.name, Counter.key == t.key, Counter.until > now,
                                                   Counter.count > 0).values(count=Counter.count - 1))

    def count(self, take: Take, now: float | None = None) -> int:
        """The events counted so far in ``take``'s open window."""
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            found = conn.execute(select(Counter.count).where(Counter.name == take.name, Counter.key == take.key,
                                                             Counter.until > now)).scalar()
        return found or 0

    def _sweep(self, now: float) -> None:
        """Forget closed windows, at most once a minute per process."""
        with self._lock:
            if now - self._swept < SWEEP_EVERY_S:
                return
            self._swept = now
        with self.engine.begin() as conn:
            conn.execute(delete(Counter).where(Counter.until < now))


class RedisCounters:
    """Counters in Redis: per key ``SET NX PX`` (the window opens) and ``INCR``, in one transaction."""

    PREFIX = "dokja:arena:"
    GIVE_BACK = "if redis.call('get', KEYS[1]) and tonumber(redis.call('get', KEYS[1])) > 0 then " \
                "return redis.call('decr', KEYS[1]) end return 0"  # never brings back a closed window

    def __init__(self, url: str):
        try:
            import redis
        except ImportError:
            raise CountersError("--redis needs the redis package: pip install 'dokja[redis]'") from None
        try:
            self.client = redis.Redis.from_url(url)
            self.client.ping()
        except (ValueError, redis.RedisError) as exc:
            raise CountersError(f"cannot reach Redis at {url}: {exc}") from None

    def _name(self, take: Take) -> str:
        return f"{self.PREFIX}{take.name}:{take.key}"

    def take(self, takes: list[Take], now: float | None = None) -> list[bool]:
        """Redis keeps the clock here (key expiry), so ``now`` is not used."""
        pipe = self.client.pipeline(transaction=True)
        for t in takes:
            pipe.set(self._name(t), 0, px=max(1, int(t.window_s * 1000)), nx=True)
            pipe.incr(self._name(t))
        counts = pipe.execute()[1::2]
        return [c <= t.limit for c, t in zip(counts, takes)]

    def give_back(self, takes: list[Take], now: float | None = None) -> None:
        for t in takes:
            self.client.eval(self.GIVE_BACK, 1, self._name(t))

    def count(self, take: Take, now: float | None = None) -> int:
        return int(self.client.get(self._name(take)) or 0)


def open_counters(engine: Engine, redis_url: str | None = None) -> StoreCounters | RedisCounters:
    """Redis when a URL is given, else the store itself."""
    return RedisCounters(redis_url) if redis_url else StoreCounters(engine)
