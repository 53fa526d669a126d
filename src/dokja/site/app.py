"""The whole site in one server: the arena, the results, and the office's, reviewers' and teams' pages."""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles

from ..accounts import tables  # noqa: F401  (registers the accounts tables)
from ..arena.web import create_app
from ..arena.web.guard import load_secret, secret_path
from . import public, roles, signin
from .state import Site, SiteSettings

HERE = Path(__file__).parent


def create_site(store_url: str | None = None, *, bundles: Path | None = None, max_upload: int = 10 * 1024 * 1024,
                site: SiteSettings | None = None, **arena_options):
    """The arena's ASGI app (see `dokja.arena.web.create_app`, which takes ``arena_options``) with the results
    site and the signed-in pages added; ``bundles`` is a folder of signed bundles, STAGE.zip each."""
    intake = create_app(store_url, **arena_options)
    arena = intake.arena
    secret = arena.settings.secret or load_secret(secret_path(arena.engine.url, arena.settings.cache))
    state = Site(arena, secret, site or SiteSettings(bundles=bundles, max_upload=max_upload))
    app = intake.app
    app.state.site = state
    app.mount("/site-static", StaticFiles(directory=HERE / "static"), name="site-static")
    for module in (public, signin, roles):
        app.include_router(module.routes(state))
    return intake
