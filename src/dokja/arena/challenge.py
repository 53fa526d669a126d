"""Proof of work for new visitors: a signed puzzle the page's script solves before the visitor's votes count.

Made-up visitors are free; each one here costs about ``2 ** difficulty`` SHA-256 evaluations, which an
honest visitor pays once, in the background, and a campaign pays per identity. The site issues a
challenge signed with its own secret (HMAC-SHA-256, so no third-party service and no table of open
challenges), the script finds a nonce such that SHA-256(challenge ‖ nonce) begins with ``difficulty``
zero bits, and the site verifies the signature, the visitor, the expiry, the work, and that the
challenge was not spent before. Only spent challenges are stored, and only until they expire.

The nonce is the decimal ASCII of a non-negative integer; the challenge is its token string's UTF-8.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Container

from .errors import ArenaError

__all__ = ["DIFFICULTY", "SCRIPT", "TTL_S", "Challenge", "ChallengeError", "issue", "leading_zero_bits", "solve",
           "verify"]

DIFFICULTY = 18  # about 262,000 hashes: a second or two of a phone's browser
TTL_S = 600.0
_VERSION = "d1"


class ChallengeError(ArenaError):
    """A challenge answer that is refused: forged, expired, for another visitor, short of work, or spent."""


@dataclass(frozen=True)
class Challenge:
    """An issued challenge; ``token`` is what the page receives and hashes, ``id`` what is stored once spent."""

    token: str
    id: str
    visitor: str
    difficulty: int
    expires: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode("utf-8"), hashlib.sha256).digest())


def issue(secret: bytes, visitor: str, now: float, difficulty: int = DIFFICULTY, *, ttl_s: float = TTL_S,
          salt: str | None = None) -> Challenge:
    """A challenge for ``visitor`` issued at ``now`` (epoch seconds), valid ``ttl_s`` seconds."""
    if not secret:
        raise ChallengeError("the challenge secret is empty")
    if not 0 <= difficulty <= 64:
        raise ChallengeError(f"difficulty must be 0 to 64 leading zero bits, not {difficulty}")
    salt = salt or _b64(secrets.token_bytes(12))
    expires = int(now + ttl_s)
    body = ".".join([_VERSION, str(difficulty), str(expires), salt, _b64(visitor.encode("utf-8"))])
    return Challenge(body + "." + _sign(secret, body), salt, visitor, difficulty, float(expires))


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits the digest starts with."""
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def _work(token: str, nonce: str) -> int:
    return leading_zero_bits(hashlib.sha256(f"{token}{nonce}".encode("utf-8")).digest())


def solve(token: str, difficulty: int, start: int = 0, limit: int | None = None) -> int:
    """The first nonce from ``start`` whose hash has ``difficulty`` leading zero bits: what the page's script does."""
    prefix = hashlib.sha256(token.encode("utf-8"))
    nonce = start
    while limit is None or nonce < start + limit:
        h = prefix.copy()
        h.update(str(nonce).encode("ascii"))
        if leading_zero_bits(h.digest()) >= difficulty:
            return nonce
        nonce += 1
    raise ChallengeError(f"no nonce within {limit} tries")


def verify(secret: bytes, token: str, nonce: str | int, *, visitor: str, now: float,
           spent: Container[str] = ()) -> Challenge:
    """The challenge, if ``nonce`` solves it for ``visitor`` before it expires and it is not in ``spent``.

    The caller adds the returned ``id`` to its spent set (until ``expires``) so an answer counts once.
    Raises :class:`ChallengeError` naming why an answer is refused.
    """
    parts = token.split(".")
    if len(parts) != 6 or parts[0] != _VERSION:
        raise ChallengeError("not a challenge this site issued")
    body, signature = ".".join(parts[:5]), parts[5]
    if not hmac.compare_digest(_sign(secret, body), signature):
        raise ChallengeError("the challenge's signature does not hold: forged or altered")
    _, difficulty, expires, salt, owner = parts[:5]
    if _unb64(owner).decode("utf-8", "replace") != visitor:
        raise ChallengeError("the challenge was issued to another visitor")
    if now >= float(expires):
        raise ChallengeError("the challenge has expired: ask for a new one")
    if salt in spent:
        raise ChallengeError("the challenge was answered already")
    text = str(nonce)
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        raise ChallengeError(f"the nonce must be a decimal number, not {text[:40]!r}")
    if _work(token, text) < int(difficulty):
        raise ChallengeError(f"the answer falls short of {difficulty} leading zero bits")
    return Challenge(token, salt, visitor, int(difficulty), float(expires))


SCRIPT = """\
// Proof of work for the arena: the first nonce whose SHA-256(token + nonce) starts with `difficulty` zero bits.
async function solveChallenge(token, difficulty, batch = 2048) {
  const enc = new TextEncoder();
  const zeroBits = (bytes) => {
    let n = 0;
    for (const b of bytes) { if (b === 0) { n += 8; continue; } return n + Math.clz32(b) - 24; }
    return n;
  };
  for (let start = 0; ; start += batch) {
    const tries = [];
    for (let k = start; k < start + batch; k++) {
      tries.push(crypto.subtle.digest("SHA-256", enc.encode(token + k)));
    }
    const digests = await Promise.all(tries);
    for (let k = 0; k < batch; k++) {
      if (zeroBits(new Uint8Array(digests[k])) >= difficulty) return String(start + k);
    }
  }
}
"""
