"""Battles in flight: each side generates in its own thread and its pieces flow to the visitor's stream.

A channel keeps every event of its battle, so a reader who connects late (or reconnects) replays
them from the start; the answers are written to the store as each side finishes.
"""

from __future__ import annotations

import asyncio
import logging
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

    def __init__(self, loop: asyncio.AbstractEventLoop):
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


class Battles:
    """Open channels by battle key, the oldest finished ones forgotten first."""

    def __init__(self, sessions: sessionmaker[Session], backends: Backends, max_new_tokens: int):
        self.sessions, self.backends, self.max_new_tokens = sessions, backends, max_new_tokens
        self.channels: OrderedDict[str, Channel] = OrderedDict()

    def start(self, key: str, prompt: str, sides: dict[str, Contender]) -> Channel:
        channel = Channel(asyncio.get_running_loop())
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
                    channel.push("end", {})

        for side in SIDES:
            threading.Thread(target=run, args=(side, sides[side]), name=f"dokja-battle-{side}", daemon=True).start()
        return channel
