"""Signing in and out: the throttled password check, a fresh session on success, CSRF on both forms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ..accounts import AccountError, Throttled, sign_in
from .state import Site

HOME = {"office": "/office", "reviewer": "/review", "team": "/team"}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another site (``//host``, ``/\\host``, ``https:``)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) < 300:
        return target
    return None


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    @router.get("/login")
    def login_page(request: Request, next: str | None = None):
        return site.page(request, "login.html", next=_safe_next(next) or "", error=None)

    @router.post("/login")
    async def login(request: Request):
        form = await request.form()
        target = _safe_next(form.get("next"))
        if not site.csrf_ok(request, form):
            return site.refuse(request, "bad_csrf", 403)
        name, password = str(form.get("name") or ""), str(form.get("password") or "")

        def check():
            return sign_in(site.sessions, name, password, site.arena.address(request.scope),
                           site.now().replace(tzinfo=None), site.settings.throttle)
        try:
            user = await run_in_threadpool(check)
        except AccountError as exc:
            status = 429 if isinstance(exc, Throttled) else 401
            return site.page(request, "login.html", status, next=target or "", error=str(exc))
        response = RedirectResponse(target or HOME[user.role], status_code=303)
        site.set_session(request, response, site.cookies.issue(user.name))
        return response

    @router.post("/logout")
    async def logout(request: Request):
        form = await request.form()
        if not site.csrf_ok(request, form):
            return site.refuse(request, "bad_csrf", 403)
        response = RedirectResponse("/results", status_code=303)
        site.set_session(request, response, site.cookies.issue(None))
        return response

    return router
