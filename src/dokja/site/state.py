"""The site's shared state and the helpers every page uses: who is signed in, rendering, refusals, CSRF."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from ..accounts import COOKIE, SessionCookies, SignedSession, Throttle, User, csrf_ok, find_user

MESSAGES = {
    "forbidden": ("This page is not for your account.", "이 계정으로는 볼 수 없는 페이지입니다."),
    "not_found": ("No such page.", "없는 페이지입니다."),
    "bad_csrf": ("The form has expired; reload the page and try again.",
                 "양식이 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도하세요."),
    "too_large": ("The upload is too large: at most {n} MB in all.", "올린 파일이 너무 큽니다: 모두 합쳐 최대 {n}MB입니다."),
    "bad_request": ("The request could not be read.", "요청을 읽을 수 없습니다."),
}


@dataclass(frozen=True)
class SiteSettings:
    """What the results site adds to the arena's settings."""

    bundles: Path | None = None  # a folder of signed bundles, STAGE.zip each, as `dokja bundle` wrote them
    max_upload: int = 10 * 1024 * 1024  # a grievance's evidence files, all together, in bytes
    session_max_age_s: int = 12 * 3600
    throttle: Throttle = Throttle()
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))  # aware UTC; tests fix it


def kst(moment: dt.datetime | None) -> str:
    """A moment (naive ones are the store's UTC) as the programme counts time: Korea's."""
    from ..grievance.window import at_kst, from_store

    if moment is None:
        return ""
    return at_kst(moment if moment.tzinfo else from_store(moment))


def _lang(request: Request) -> str:
    """The visitor's language: the toggle's cookie, else the browser's first choice (as the arena does)."""
    chosen = request.cookies.get("dokja_lang")
    if chosen in ("ko", "en"):
        return chosen
    return "ko" if request.headers.get("accept-language", "").lower().startswith("ko") else "en"


class Site:
    """The arena's server state plus the site's: signed sessions, templates, settings."""

    def __init__(self, arena, secret: bytes, settings: SiteSettings):
        self.arena, self.sessions, self.settings = arena, arena.sessions, settings
        self.cookies = SessionCookies(secret, settings.session_max_age_s)
        self.env = Environment(loader=PackageLoader("dokja.site", "templates"),
                               autoescape=select_autoescape(["html"]))
        self.env.filters["kst"] = kst

    def now(self) -> dt.datetime:
        return self.settings.clock()

    def signed(self, request: Request) -> SignedSession | None:
        return self.cookies.read(request.cookies.get(COOKIE))

    def user(self, request: Request) -> User | None:
        """The signed-in account, read again from the store: a removed account signs out at once."""
        session = self.signed(request)
        if session is None or session.name is None:
            return None
        with self.sessions() as s:
            return find_user(s, session.name)

    def set_session(self, request: Request, response: Response, token: str) -> None:
        """Hand over a session cookie: script cannot read it, other sites cannot send it with a POST, and it
        never travels in clear text once the site is on https."""
        response.set_cookie(COOKIE, token, max_age=self.settings.session_max_age_s, httponly=True,
                            samesite="lax", secure=self.arena.https(request.scope), path="/")

    def page(self, request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
        """A page in both languages, with the session's CSRF token for its forms (an anonymous session is
        started when there is none, so the sign-in form has one too)."""
        session, fresh = self.signed(request), None
        if session is None:
            fresh = self.cookies.issue(None)
            session = self.cookies.read(fresh)
        user = self.user(request) if session.name else None
        html = self.env.get_template(name).render(lang=_lang(request), path=request.url.path, user=user,
                                                  csrf=session.csrf, **context)
        response = HTMLResponse(html, status_code=status)
        response.headers["cache-control"] = "no-store"
        if fresh:
            self.set_session(request, response, fresh)
        return response

    def refuse(self, request: Request, code: str, status: int, **fmt) -> HTMLResponse:
        en, ko = MESSAGES[code]
        return self.page(request, "refusal.html", status, en=en.format(**fmt), ko=ko.format(**fmt))

    def need(self, request: Request, role: str) -> User | Response:
        """The user if signed in with this role; else to the sign-in page (anonymous) or 403 (another role)."""
        user = self.user(request)
        if user is None:
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if user.role != role:
            return self.refuse(request, "forbidden", 403)
        return user

    def csrf_ok(self, request: Request, form) -> bool:
        return csrf_ok(self.signed(request), form.get("csrf"))


async def capped_form(request: Request, limit: int):
    """The form, read only if the whole body stays within ``limit`` bytes (chunked bodies too); None if not."""
    from starlette.requests import Request as Plain

    from ..arena.web.guard import BodyTooLarge, read_capped

    try:
        if int(request.headers.get("content-length") or 0) > limit:
            raise BodyTooLarge
        body = await read_capped(request.stream(), limit)
    except BodyTooLarge:
        return None

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}
    return await Plain(request.scope, replay).form(max_files=20, max_part_size=limit)
