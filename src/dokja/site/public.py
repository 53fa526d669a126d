"""The public pages: each stage's published result, each team, the grievance timeline, the resources, and
the signed bundle with how to verify it. Anonymous, read-only."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from . import reads
from .state import Site

SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def bundle_bytes(folder: Path | None, stage: str, decision: int, disclosure: str) -> bytes | None:
    """``STAGE.zip`` from the bundles folder, only if it is the published decision's bundle at a level the
    programme discloses (a full bundle is never served when the programme publishes at "public")."""
    if folder is None or not SAFE_KEY.match(stage):
        return None
    path = Path(folder) / f"{stage}.zip"
    try:
        data = path.read_bytes()
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    if manifest.get("decision") != decision or manifest.get("stage") != stage:
        return None
    if manifest.get("level") != "public" and disclosure != "full":
        return None
    return data


def routes(site: Site) -> APIRouter:
    router = APIRouter()

    def read(fn, *args):
        with site.sessions() as session:
            return fn(session, *args)

    @router.get("/results")
    def results(request: Request):
        user = site.user(request)

        def load(session):
            return [(s, reads.result_for(session, s.key, user)) for s in reads.stages(session)], reads.teams(session)
        shown, teams = read(load)
        return site.page(request, "results.html", shown=shown, teams=teams)

    @router.get("/results/{stage}")
    def stage_page(request: Request, stage: str):
        user = site.user(request)

        def load(session):
            info = reads.stage_info(session, stage)
            return info, info and reads.result_for(session, stage, user)
        info, result = read(load)
        if info is None:
            return site.refuse(request, "not_found", 404)
        bundle = result is not None and result.published_at is not None and site.settings.bundles is not None
        return site.page(request, "stage.html", info=info, result=result, bundle=bundle)

    @router.get("/results/{stage}/grievances")
    def timeline_page(request: Request, stage: str):
        from ..grievance import timeline

        info = read(reads.stage_info, stage)
        if info is None:
            return site.refuse(request, "not_found", 404)
        return site.page(request, "timeline.html", info=info, grievances=read(timeline, stage))

    @router.get("/results/{stage}/bundle.zip")
    async def bundle(request: Request, stage: str):
        def load():
            with site.sessions() as session:
                shown, spec = reads.shown_decision(session, stage, office=False), reads.programme(session)
            if shown is None or spec is None:
                return None
            return bundle_bytes(site.settings.bundles, stage, shown[0].id, spec.disclosure)
        data = await run_in_threadpool(load)
        if data is None:
            return site.refuse(request, "not_found", 404)
        return Response(data, media_type="application/zip",
                        headers={"content-disposition": f'attachment; filename="{stage}.zip"'})

    @router.get("/teams/{team}")
    def team_page(request: Request, team: str):
        user = site.user(request)

        def load(session):
            info = reads.team_info(session, team)
            rows = [(s, r, r.team(team)) for s in reads.stages(session)
                    if (r := reads.result_for(session, s.key, user)) and r.team(team)]
            return info, rows
        info, rows = read(load)
        if info is None:
            return site.refuse(request, "not_found", 404)
        return site.page(request, "team.html", team=info, rows=rows)

    @router.get("/resources")
    def resources_page(request: Request):
        from ..resources import summary

        def load(session):  # a site before any programme is imported has no ledger to show
            return summary(session, site.now().date()) if reads.programme(session) else None
        ledger = read(load)
        if ledger is None:
            return site.refuse(request, "not_found", 404)
        return site.page(request, "resources.html", summary=ledger)

    @router.get("/verify")
    def verify_page(request: Request):
        return site.page(request, "verify.html", stages=read(reads.stages))


    return router


