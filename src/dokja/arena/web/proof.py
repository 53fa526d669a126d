"""Proof of work at the site's edge: a challenge for each visitor, each answer taken once, the visitor marked
proven in the store, after which its votes count.

The puzzle is ``challenge.py``'s. Its key is derived from the store's secret, so every worker issues and checks
alike; a spent challenge is a shared counter that admits one answer until the challenge expires, so a replay
is refused on any worker.
"""

from __future__ import annotations

import hashlib
import time

from sqlalchemy.orm import sessionmaker

from ..challenge import Challenge, ChallengeError, issue, verify
from ..service import prove_visitor, visitor_proven
from .shared import Counters, Take


class Proofs:
    """Challenges of ``bits`` leading zero bits (0: none asked, every visitor counts as proven)."""

    def __init__(self, secret: bytes, bits: int, counters: Counters, sessions: sessionmaker):
        if not 0 <= bits <= 64:
            raise ChallengeError(f"the proof of work takes 0 to 64 leading zero bits, not {bits}")
        self.bits, self.counters, self.sessions = bits, counters, sessions
        self._key = hashlib.sha256(b"dokja arena challenge\0" + secret).digest()

    def needed(self, token: str) -> bool:
        """Whether this visitor still has a proof to do before its votes count."""
        if not self.bits:
            return False
        with self.sessions() as session:
            return not visitor_proven(session, token)

    def challenge(self, token: str, now: float | None = None) -> Challenge:
        return issue(self._key, token, time.time() if now is None else now, self.bits)

    def answer(self, token: str, address: str, challenge: str, nonce: str | int, now: float | None = None) -> None:
        """Take the answer and mark the visitor proven; raises :class:`ChallengeError` saying why it is refused."""
        now = time.time() if now is None else now
        found = verify(self._key, challenge, nonce, visitor=token, now=now)
        spent = Take("challenge_spent", found.id, 1, max(1.0, found.expires - now))
        if not self.counters.take([spent], now)[0]:
            raise ChallengeError("the challenge was answered already")
        with self.sessions.begin() as session:
            prove_visitor(session, token, address)
