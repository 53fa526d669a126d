"""The site's defences that do not depend on the framework: signed visitor tokens, text checks,
capped request bodies, the client's address behind trusted proxies, and security headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import unicodedata
from pathlib import Path
from typing import Iterable

SECRET_BYTES = 32
ALLOWED_CONTROLS = {"\n", "\t"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"), (b"x-frame-options", b"DENY")]


class BodyTooLarge(Exception):
    """The request body went past its cap while it was being read."""


def load_secret(path: Path) -> bytes:
    """The store's secret, made once and kept in a file only its owner may read, so that tokens outlive restarts
    and every worker on the store signs alike."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes()
        if len(secret) < 16:
            raise ValueError(f"{path}: the arena secret is too short") from None
        return secret
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(SECRET_BYTES))
    return path.read_bytes()


def secret_path(engine_url, cache: Path) -> Path:
    """Next to a SQLite file; in the cache folder for a server database or an in-memory store."""
    database = engine_url.database
    if engine_url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database + ".secret")
    return Path(cache) / "arena.secret"


class Visitors:
    """Visitor tokens the server issued: a random part and its HMAC, so a made-up cookie is no visitor."""

    def __init__(self, secret: bytes):
        self._key = hashlib.sha256(b"dokja arena visitor\0" + secret).digest()
        self._public = hashlib.sha256(b"dokja arena public id\0" + secret).digest()

    def _sign(self, part: str) -> str:
        mac = hmac.new(self._key, part.encode(), hashlib.sha256).digest()[:24]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self) -> str:
        part = secrets.token_urlsafe(18)
        return f"{part}.{self._sign(part)}"

    def valid(self, token: str | None) -> bool:
        if not token or len(token) > 64 or token.count(".") != 1:
            return False
        part, mac = token.split(".")
        return hmac.compare_digest(mac.encode(), self._sign(part).encode())

    def public_id(self, battle_key: str) -> str:
        """A battle's name in the public export: stable and unique, but no key to its answers."""
        return hmac.new(self._public, battle_key.encode(), hashlib.sha256).hexdigest()[:32]


def text_problem(value) -> str | None:
    """Why a text from a visitor cannot be stored (None when it can): not text, a lone surrogate, NUL or
    another control character (only newline and tab are allowed)."""
    if not isinstance(value, str):
        return "not_text"
    for ch in value:
        if 0xD800 <= ord(ch) <= 0xDFFF or (unicodedata.category(ch) == "Cc" and ch not in ALLOWED_CONTROLS):
            return "bad_text"
    return None


async def read_capped(chunks, limit: int) -> bytes:
    """The body, read chunk by chunk, stopping as soon as it passes ``limit`` bytes (chunked bodies too)."""
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        parts.append(chunk)
    return b"".join(parts)


def networks(specs: Iterable[str]) -> tuple:
    """Trusted proxies as networks: an address or a CIDR block each."""
    return tuple(ipaddress.ip_network(s.strip(), strict=False) for s in specs if s.strip())


def is_trusted(address: str, trusted: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(peer: str, forwarded: list[str], trusted: tuple) -> str:
    """The client: the direct peer, unless that is a trusted proxy; then the right-most untrusted address of
    ``X-Forwarded-For`` (a client can forge what lies left of its own entry, not its own entry)."""
    if not trusted or not is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for line in forwarded for h in line.split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, trusted):
            return hop[:64]
    return hops[0][:64] if hops else peer


def header_values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in headers if k == name]
