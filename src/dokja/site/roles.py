"""The signed-in pages: a reviewer's assigned teams and score forms, a team's results and grievances, and the
office's view of everything. Every POST carries the session's CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from . import reads
from .state import Site, capped_form


def _assigned(session, stage: str, reviewer: str) -> list[str]:
    from ..panel import PanelError, assigned_teams

    try:
        return list(assigned_teams(session, stage, reviewer))
    except PanelError:
        return []


def reviewer_routes(site: Site, router: APIRouter) -> None:
    from ..programme.panel import SCALE_MAX, SCALE_MIN

    @router.get("/review")
    def review_home(request: Request):
        user = site.need(request, "reviewer")
        if isinstance(user, Response):
            return user
        from ..panel import panel_status

        with site.sessions() as session:
            stages = [(s, panel_status(session, s.key), [reads.team_info(session, t) for t in
                                                         _assigned(session, s.key, user.reviewer)])
                      for s in reads.stages(session)]
        return site.page(request, "review.html", stages=stages)

    def score_form(request: Request, user, stage: str, team: str, status: int = 200, error: str | None = None):
        from ..panel import own_scores, panel_status, rubric

        with site.sessions() as session:
            if team not in _assigned(session, stage, user.reviewer):
                return site.refuse(request, "forbidden", 403)
            spec = reads.programme(session)
            mine = {c: v for (t, c), v in own_scores(session, stage, user.reviewer).items() if t == team}
            context = dict(info=reads.stage_info(session, stage), team=reads.team_info(session, team),
                           criteria=rubric(spec), mine=mine, closed=panel_status(session, stage) == "closed")
        return site.page(request, "score.html", status, error=error, scale=range(SCALE_MIN, SCALE_MAX + 1),
                         **context)

    @router.get("/review/{stage}/{team}")
    def review_team(request: Request, stage: str, team: str):
        user = site.need(request, "reviewer")
        return user if isinstance(user, Response) else score_form(request, user, stage, team)

    @router.post("/review/{stage}/{team}")
    async def review_score(request: Request, stage: str, team: str):
        user = site.need(request, "reviewer")
        if isinstance(user, Response):
            return user
        form = await request.form()
        if not site.csrf_ok(request, form):
            return site.refuse(request, "bad_csrf", 403)
        from ..panel import PanelError, enter_score, rubric

        def enter():
            with site.sessions.begin() as session:
                if team not in _assigned(session, stage, user.reviewer):
                    return "forbidden"
                for c in rubric(reads.programme(session)):
                    value = str(form.get(f"score-{c.id}") or "").strip()
                    if value:
                        enter_score(session, stage, user.reviewer, team, c.id, value,
                                    note=str(form.get(f"note-{c.id}") or ""), via="web")
            return None
        try:
            if await run_in_threadpool(enter) == "forbidden":
                return site.refuse(request, "forbidden", 403)
        except PanelError as exc:
            return score_form(request, user, stage, team, 422, str(exc))
        return RedirectResponse(f"/review/{stage}/{team}?saved=1", status_code=303)


def team_routes(site: Site, router: APIRouter) -> None:
    @router.get("/team")
    def team_home(request: Request):
        user = site.need(request, "team")
        return user if isinstance(user, Response) else team_page(request, user)

    def team_page(request: Request, user, status: int = 200, error: str | None = None):
        from ..grievance import GROUNDS, GrievanceError, team_grievances, window

        now = site.now()
        with site.sessions() as session:
            stages = []
            for s in reads.stages(session):
                result = reads.result_for(session, s.key, user)
                try:
                    open_window = window(session, s.key, now) if result and result.published_at else None
                except GrievanceError:
                    open_window = None
                stages.append((s, result and result.published_at and result.team(user.team), open_window,
                               team_grievances(session, s.key, user.team)))
            team = reads.team_info(session, user.team)
        return site.page(request, "team_home.html", status, team=team, stages=stages, grounds=GROUNDS, error=error,
                         max_mb=site.settings.max_upload // (1024 * 1024))

    @router.post("/team/{stage}/grievance")
    async def file(request: Request, stage: str):
        user = site.need(request, "team")
        if isinstance(user, Response):
            return user
        form = await capped_form(request, site.settings.max_upload)
        if form is None:
            return site.refuse(request, "too_large", 413, n=site.settings.max_upload // (1024 * 1024))
        if not site.csrf_ok(request, form):
            return site.refuse(request, "bad_csrf", 403)
        files = [(f.filename or "evidence", await f.read()) for f in form.getlist("files")
                 if hasattr(f, "read") and f.filename]
        from ..grievance import GrievanceError, file_grievance

        def store():
            with site.sessions.begin() as session:
                file_grievance(session, stage, user.team, str(form.get("kind") or ""),
                               str(form.get("grounds") or ""), files, site.now())
        try:
            await run_in_threadpool(store)
        except GrievanceError as exc:
            return team_page(request, user, 422, str(exc))
        return RedirectResponse("/team?filed=1", status_code=303)

    @router.post("/team/{stage}/waive")
    async def waive_route(request: Request, stage: str):
        user = site.need(request, "team")
        if isinstance(user, Response):
            return user
        form = await request.form()
        if not site.csrf_ok(request, form):
            return site.refuse(request, "bad_csrf", 403)
        from ..grievance import GrievanceError, waive

        def store():
            with site.sessions.begin() as session:
                waive(session, stage, user.team, site.now())
        try:
            await run_in_threadpool(store)
        except GrievanceError as exc:
            return team_page(request, user, 422, str(exc))
        return RedirectResponse("/team?waived=1", status_code=303)


def office_routes(site: Site, router: APIRouter) -> None:
    @router.get("/office")
    def office_home(request: Request):
        user = site.need(request, "office")
        if isinstance(user, Response):
            return user
        from ..accounts import users
        from ..grievance import timeline
        from ..panel import panel_status

        with site.sessions() as session:
            stages = [(s, reads.result_for(session, s.key, user), panel_status(session, s.key),
                       timeline(session, s.key)) for s in reads.stages(session)]
            accounts = users(session)
        return site.page(request, "office.html", stages=stages, accounts=accounts)


def routes(site: Site) -> APIRouter:
    router = APIRouter()
    reviewer_routes(site, router)
    team_routes(site, router)
    office_routes(site, router)
    return router
