"""Battles in flight: each side generates on a worker of a bounded pool and its pieces flow to the visitor's
stream; when as many battles as the queue holds are waiting, new ones are refused (the caller answers 503).

A channel keeps every event of its battle, so a reader who connects late (or reconnects) replays
them from the start; the answers are written to the store as each side finishes.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import OrderedDict
from typing import AsyncIterator

from sqlalchemy.orm import Session, sessionmaker

from ..contenders import Backends, Contender
from ..identity import reveals_identity
from ..service import SIDES, record_answer
from ..stream import generate_answer

log = logging.getLogger("dokja.arena")
KEEP_CHANNELS = 2000


class Channel:
    """The events of one battle's stream: (kind, data) pairs, appended on the event loop's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop, owner: str = ""):
        self.owner = owner
        self.events: list[tuple[str, dict]] = []
        self.closed = False
        self._loop = loop
        self._changed = asyncio.Event()

    def push(self, kind: str, data: dict) -> None:
        """Safe from any thread."""
        self._loop.call_soon_threadsafe(self._append, kind, data)

    def _append(self, kind: str, data: dict) -> None:
        self.events.append((kind, data))
        if kind == "end":
            self.closed = True
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def follow(self) -> AsyncIterator[tuple[str, dict]]:
        seen = 0
        while True:
            while seen < len(self.events):
                yield self.events[seen]
                seen += 1
            if self.closed:
                return
            await self._changed.wait()


class Busy(Exception):
    """Every generation slot is taken; try again shortly."""


class Battles:
    """Open channels by battle key, the oldest finished ones forgotten first, and the generation pool:
    ``workers`` threads, at most ``max_battles`` battles running or waiting."""

    def __init__(self, sessions: sessionmaker[Session], backends: Backends, max_new_tokens: int,
                 workers: int = 4, max_battles: int = 32):
        self.sessions, self.backends, self.max_new_tokens = sessions, backends, max_new_tokens
        self.channels: OrderedDict[str, Channel] = OrderedDict()
        self.workers = max(1, workers)
        self._slots = threading.BoundedSemaphore(max(1, max_battles))
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._start_lock = threading.Lock()

    def reserve(self) -> None:
        """Take a battle's slot before the battle is stored, so a refused one leaves nothing behind."""
        if not self._slots.acquire(blocking=False):
            raise Busy

    def release(self) -> None:
        """Give back a reserved slot whose battle never started."""
        self._slots.release()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            job()

    def _submit(self, job) -> None:
        with self._start_lock:
            if len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"dokja-generate-{len(self._threads)}",
                                          daemon=True)
                self._threads.append(thread)
                thread.start()
        self._jobs.put(job)

    def start(self, key: str, prompt: str, sides: dict[str, Contender], owner: str = "") -> Channel:
        """Queue both sides of a reserved battle; the slot is released when its last side ends."""
        channel = Channel(asyncio.get_running_loop(), owner)
        self.channels[key] = channel
        while len(self.channels) > KEEP_CHANNELS:
            old = next((k for k, c in self.channels.items() if c.closed), None)
            if old is None:
                break
            del self.channels[old]
        names = [c.name for c in sides.values()]
        makers = [m for c in sides.values() for m in c.makers]
        remaining = [len(sides)]
        guard = threading.Lock()

        def run(side: str, contender: Contender) -> None:
            try:
                backend = self.backends.get(contender)
                answer = generate_answer(backend, prompt, max_new_tokens=self.max_new_tokens, chat=contender.chat,
                                         on_piece=lambda piece: channel.push("piece", {"side": side, "text": piece}))
                with self.sessions.begin() as session:
                    record_answer(session, key, side, answer.text, tokens=answer.tokens,
                                  first_token_s=answer.first_token_s, seconds=answer.seconds,
                                  reveals_identity=reveals_identity(answer.text, names, makers))
                channel.push("done", {"side": side, "tokens": answer.tokens, "seconds": round(answer.seconds, 2)})
            except Exception as exc:  # the visitor hears of it; the battle stays unfinished and takes no vote
                log.exception("battle %s side %s failed", key, side)
                channel.push("failed", {"side": side, "error": type(exc).__name__})
            finally:
                with guard:
                    remaining[0] -= 1
                    last = remaining[0] == 0
                if last:
                    self._slots.release()
                    channel.push("end", {})

        for side in SIDES:
            self._submit(lambda side=side: run(side, sides[side]))
        return channel
