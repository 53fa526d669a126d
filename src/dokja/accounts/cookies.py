"""Signed session cookies with an expiry, and the per-session CSRF token every form carries.

A session is a signed ``{name, nonce, issued}``; nothing about it is kept on the server, so every worker reads
it alike. The CSRF token is an HMAC of the session's nonce: a page from this site can show it, another site
cannot guess it. A session without a name is the anonymous one the sign-in form needs for its own token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "dokja_session"
MAX_AGE_S = 12 * 3600


@dataclass(frozen=True)
class SignedSession:
    """What a valid cookie says: the account's name (None before sign-in) and the session's CSRF token."""

    name: str | None
    csrf: str
    issued: int


class SessionCookies:
    """Issue and read session cookies under the site's secret; a session expires ``max_age_s`` after issue."""

    def __init__(self, secret: bytes, max_age_s: int = MAX_AGE_S):
        key = hashlib.sha256(b"dokja account session\0" + secret).digest()
        self._serializer = URLSafeSerializer(key, salt="dokja session")
        self._csrf_key = hashlib.sha256(b"dokja account csrf\0" + secret).digest()
        self.max_age_s = max_age_s

    def _csrf(self, nonce: str) -> str:
        return hmac.new(self._csrf_key, nonce.encode(), hashlib.sha256).hexdigest()[:40]

    def issue(self, name: str | None, now: float | None = None) -> str:
        """A new session (a fresh nonce each time, so signing in never keeps a session from before)."""
        issued = int(time.time() if now is None else now)
        return self._serializer.dumps({"u": name, "n": secrets.token_urlsafe(18), "t": issued})

    def read(self, token: str | None, now: float | None = None) -> SignedSession | None:
        """The session a cookie holds, or None: missing, forged, malformed or expired."""
        if not token or len(token) > 400:
            return None
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str) or not isinstance(data.get("t"), int):
            return None
        age = (time.time() if now is None else now) - data["t"]
        if not 0 <= age <= self.max_age_s:
            return None
        name = data.get("u")
        return SignedSession(name if isinstance(name, str) else None, self._csrf(data["n"]), data["t"])


def csrf_ok(session: SignedSession | None, given: str | None) -> bool:
    """Whether a form's token is this session's (compared in constant time)."""
    return session is not None and isinstance(given, str) and hmac.compare_digest(session.csrf.encode(),
                                                                                  given.encode())
