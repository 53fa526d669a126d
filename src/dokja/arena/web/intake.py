"""Vote intake, the site's one hot path, served as bare ASGI in front of the FastAPI routes.

Going around the framework's routing, validation and response classes is what lets a small
machine take well over a thousand votes a second; the rules are the same as everywhere else:
a session cookie, rate limits per visitor and per address (the shared counters every worker
counts in), the proof of work where the site asks for one, the ballot box's durable commit.
"""

from __future__ import annotations

import json
import re

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from ...store import StoreError
from ..service import Ballot, check_outcome
from .guard import HEADERS

VOTE_PATH = re.compile(r"^/api/battles/([^/]{1,64})/vote$")
MAX_BODY = 4096
STATUS = {"unknown": 404, "not_yours": 403, "not_finished": 409, "already_voted": 409, "no_proof": 403}


def cookie(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    wanted = name.encode() + b"="
    for key, value in headers:
        if key == b"cookie":
            for part in value.split(b";"):
                part = part.strip()
                if part.startswith(wanted):
                    return part[len(wanted):].decode("latin-1")
    return None


class VoteIntake:
    """ASGI wrapper: ``POST /api/battles/{key}/vote`` is answered here, everything else goes to ``app``."""

    def __init__(self, app, arena, refusal):
        self.app, self.arena, self.refusal = app, arena, refusal

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            match = VOTE_PATH.match(scope["path"])
            if match:
                status, body = await self.vote(match.group(1), scope, receive)
                await send({"type": "http.response.start", "status": status,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode()), *HEADERS]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, _with_headers(send) if scope["type"] == "http" else send)

    async def vote(self, key: str, scope, receive) -> tuple[int, bytes]:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return 400, b"{}"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return self.refusal("bad_request", 413)
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        token = cookie(scope["headers"], "dokja_visitor")
        if not self.arena.visitors.valid(token):  # none, or one this server never issued
            return self.refusal("no_session", 401)
        try:
            outcome = json.loads(b"".join(chunks)).get("outcome")
        except (ValueError, AttributeError):
            return self.refusal("bad_request", 400)
        if not isinstance(outcome, str) or not check_outcome(outcome):
            return self.refusal("bad_outcome", 422)
        if not await run_in_threadpool(self.arena.vote_allowed, token, self.arena.address(scope)):
            return self.refusal("slow_down", 429)
        try:
            verdict = await self.arena.box.cast(Ballot(key, token, outcome, self.arena.proofs.bits > 0))
        except (SQLAlchemyError, StoreError):  # the store cannot take the vote (a full disk, the database away): not counted
            return self.refusal("unavailable", 503)
        if verdict.status != "ok":
            return self.refusal(verdict.status, STATUS[verdict.status])
        reveal = {"outcome": outcome, "a": self.arena.reveal(verdict.model_a), "b": self.arena.reveal(verdict.model_b)}
        return 200, json.dumps(reveal, ensure_ascii=False).encode()


def _with_headers(send):
    """Every response of the app carries the security headers (pages, data, static files, errors)."""
    async def sending(message):
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
        await send(message)
    return sending
