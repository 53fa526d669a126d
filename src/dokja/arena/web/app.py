"""The public arena site: blind battles streamed side by side, votes, the leaderboard and the open data.

Pages are server-rendered (Jinja2, autoescaped); the script on the arena page writes model text
with ``textContent`` only. Every refusal answers with a code and one line in English and Korean.
New visitors are budgeted per address and per subnet, and with ``pow_bits`` a visitor's votes count
only once its browser has done the proof of work (``proof.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from ...store import open_store
from .. import tables  # noqa: F401  (registers the arena tables)
from ..budgets import NEW_VISITORS, Budget
from ..categories import classify
from ..challenge import SCRIPT, ChallengeError
from ..contenders import Backends, Contender, load_contenders
from ..errors import ArenaError
from ..honesty import RULES_EN, RULES_KO, normalise_prompt
from ..leaderboard import compute_leaderboard, flag_effects, leaderboard_json
from ..pairing import draw_pair, pair_probabilities, vote_weight
from ..service import battle, board_counts, counted_votes, open_battle, refresh_flags, votes_from_store
from ..tables import Visitor
from .ballots import BallotBox
from .chart import rating_chart
from .guard import (BodyTooLarge, Visitors, client_address, header_values, is_trusted, load_secret, networks,
                    read_capped, secret_path, text_problem)
from .intake import VoteIntake
from .limits import Limits, budget_takes
from .live import Battles, Busy
from .proof import Proofs
from .refusals import refusal, refuse
from .shared import Take, open_counters, short_key

COOKIE = "dokja_visitor"
SMALL = 10_000  # votes: below this the flags and the leaderboard are brought up to date on every change
HERE = Path(__file__).parent

VIEWS = [("all", "All", "전체"), ("ko", "Korean", "한국어"), ("en", "English", "영어"), ("coding", "Coding", "코딩"),
         ("math", "Maths", "수학"), ("general", "General", "일반")]


@dataclass
class Settings:
    store_url: str | None = None
    cache: Path = Path(".dokja")
    max_new_tokens: int = 256
    limits: Limits = Limits()
    flood_limit: int = 20  # the same prompt at most this many times in ``flood_window_s``, across visitors
    flood_window_s: float = 600.0
    refresh_s: float = 30.0  # how often the field of contenders and the pairing are refreshed
    seed: int | None = None
    trusted_proxies: tuple[str, ...] = ()  # addresses or CIDR blocks whose X-Forwarded-For is believed
    secure_cookie: bool = False  # mark the cookie Secure even on plain http (a TLS proxy that sends no proto)
    generation_workers: int = 4  # threads generating answers (a battle takes two)
    max_battles: int = 32  # battles running or waiting for a worker; beyond this, 503
    secret: bytes | None = dataclasses.field(default=None, repr=False)  # else kept in a file next to the store
    redis_url: str | None = None  # shared counters in Redis; else in the store
    new_visitors: Budget = NEW_VISITORS  # new visitor identities per address and per subnet, in its window
    pow_bits: int = 0  # proof of work before a visitor's votes count, in leading zero bits (0: none asked)


class Arena:
    """The server's state: the store, the ballot box, models, battles in flight, limits and caches."""

    def __init__(self, settings: Settings, contenders: list[Contender] | None = None):
        self.settings = settings
        self.sessions = open_store(settings.store_url)
        self.engine = self.sessions.kw["bind"]
        secret = settings.secret or load_secret(secret_path(self.engine.url, settings.cache))
        self.visitors = Visitors(secret)
        self.trusted = networks(settings.trusted_proxies)
        self.box = BallotBox(self.engine)
        self.backends = Backends(settings.cache)
        self.battles = Battles(self.sessions, self.backends, settings.max_new_tokens,
                               settings.generation_workers, settings.max_battles)
        self.counters = open_counters(self.engine, settings.redis_url)
        self.proofs = Proofs(secret, settings.pow_bits, self.counters, self.sessions)
        self.rng = np.random.default_rng(settings.seed)
        self._fixed = contenders
        self._field: tuple[float, list[Contender], dict] = (0.0, [], {})
        self._board_cache: dict[tuple, tuple[int, object]] = {}
        self._store_cache: dict[str, tuple[int, list, float]] = {}
        self._lock = threading.Lock()
        self.ready = False
        self._by_name: dict[str, Contender] = {}

    def field(self) -> tuple[list[Contender], dict]:
        """The contenders and their pair probabilities, refreshed every ``refresh_s`` seconds."""
        with self._lock:
            stamp, contenders, probabilities = self._field
            if time.monotonic() - stamp < self.settings.refresh_s and contenders:
                return contenders, probabilities
            with self.sessions() as session:
                contenders = self._fixed if self._fixed is not None else load_contenders(session)
            probabilities = {}
            if len(contenders) >= 2:
                names = [c.name for c in contenders]
                try:
                    board = self.board()
                    counts: dict[tuple[str, str], int] = {}
                    for c in self._read("counts")[1]:
                        counts[c.model_a, c.model_b] = counts.get((c.model_a, c.model_b), 0) + c.n
                    probabilities = pair_probabilities(names, board if board.rows else None, counts)
                except ValueError:  # no usable ratings yet: draw every pair alike
                    probabilities = pair_probabilities(names)
            self._field = (time.monotonic(), contenders, probabilities)
            self._by_name = {c.name: c for c in contenders}
            return contenders, probabilities

    def preload(self) -> None:
        """Load every contender's model now, so the first visitor does not wait for it."""
        try:
            for contender in self.field()[0]:
                self.backends.get(contender)
        finally:
            self.ready = True

    def address(self, scope) -> str:
        """The client's address: the peer, or what a trusted proxy says the client was."""
        peer = scope["client"][0] if scope.get("client") else ""
        return client_address(peer, header_values(scope["headers"], b"x-forwarded-for"), self.trusted)

    def https(self, scope) -> bool:
        """Whether the visitor's connection is encrypted (here, or at a trusted proxy that says so)."""
        if self.settings.secure_cookie or scope.get("scheme") == "https":
            return True
        peer = scope["client"][0] if scope.get("client") else ""
        proto = header_values(scope["headers"], b"x-forwarded-proto")
        return bool(proto) and is_trusted(peer, self.trusted) and proto[-1].split(",")[-1].strip().lower() == "https"

    def new_visitor(self, scope) -> str | None:
        """A freshly signed token, unless this address has had its share of new visitors this minute, or it or
        its subnet its budget of them (a refusal does not use the budget up, as in ``budgets.admitted``)."""
        address = self.address(scope)
        burst = self.settings.limits.take("new_visitors_per_address", address)
        budget = budget_takes("new_visitors", self.settings.new_visitors, address)
        if all(self.counters.take([burst, *budget])):
            return self.visitors.issue()
        self.counters.give_back(budget)
        return None

    def vote_allowed(self, token: str, address: str) -> bool:
        """Within the visitor's and the address's votes this minute (counted across every worker)."""
        limits = self.settings.limits
        return all(self.counters.take([limits.take("votes_per_visitor", token),
                                       limits.take("votes_per_address", address)]))

    def prompt_refusal(self, token: str, address: str, prompt: str) -> str | None:
        """Why a prompt is refused before it costs a generation ("slow_down", "flood"), or None."""
        limits, settings = self.settings.limits, self.settings
        visitor, by_address, flood = self.counters.take([
            limits.take("prompts_per_visitor", token), limits.take("prompts_per_address", address),
            Take("prompt_flood", short_key(normalise_prompt(prompt)), settings.flood_limit, settings.flood_window_s)])
        return "slow_down" if not (visitor and by_address) else None if flood else "flood"

    def reveal(self, name: str) -> dict:
        """Who stands behind a model, as shown once the vote is in."""
        found = self._by_name.get(name)
        if found is None:
            return {"model": name, "owner": "", "owner_ko": "", "kind": ""}
        return {"model": name, "owner": found.owner, "owner_ko": found.owner_ko, "kind": found.kind}

    def votes_cached(self):
        return self._read("votes")[1]

    def _read(self, kind: str) -> tuple[int, list]:
        """The store's counts ("counts": every leaderboard view but the style-controlled one) or every vote as
        a record ("votes": the export and the style-controlled view), the honesty flags brought up to date.

        Read again when the votes have changed: at once while the store is small, at most every
        ``refresh_s`` seconds once it is large. Counts cost a pass over the tallies of the visitors with
        enough votes to be judged; records a pass over every vote.
        """
        cached = self._store_cache.get(kind)
        if cached and cached[0] >= SMALL and time.monotonic() - cached[2] < self.settings.refresh_s:
            return cached[0], cached[1]
        with self.sessions() as session:
            n = counted_votes(session)
        if cached and cached[0] == n:
            return cached[0], cached[1]
        with self.sessions.begin() as session:
            if kind == "counts":
                refresh_flags(session)
                found = board_counts(session)
            else:
                found = [dataclasses.replace(r, battle=self.visitors.public_id(r.battle))
                         for r in votes_from_store(session)]  # public: a battle key would open its answers
        self._store_cache[kind] = (n, found, time.monotonic())
        return n, found

    def board(self, *, view: str = "all", style: bool = False, ties: str = "half", interval: str = "sandwich"):
        """A leaderboard view: from the store's counts, or for the style-controlled view (which needs each
        vote's answers) from every vote."""
        n, records = self._read("votes" if style else "counts")
        key = (view, style, ties, interval)
        cached = self._board_cache.get(key)
        if cached and cached[0] == n:
            return cached[1]
        lb = compute_leaderboard(records, ties=ties, interval=interval, category=None if view == "all" else view,
                                 style=style)
        self._board_cache[key] = (n, lb)
        return lb

    def with_flagged(self, ties: str = "half") -> dict:
        """Each model's rating with the flagged votes counted too, published beside the counted one."""
        n, records = self._read("counts")
        cached = self._board_cache.get(("flagged", ties))
        if cached and cached[0] == n:
            return cached[1]
        effects = {e.model: e for e in flag_effects(records, ties=ties)}
        self._board_cache[("flagged", ties)] = (n, effects)
        return effects


def _lang(request: Request) -> str:
    chosen = request.cookies.get("dokja_lang")
    if chosen in ("ko", "en"):
        return chosen
    accept = request.headers.get("accept-language", "")
    return "ko" if accept.lower().startswith("ko") else "en"


def create_app(store_url: str | None = None, *, cache: Path = Path(".dokja"), max_new_tokens: int = 256,
               limits: Limits | None = None, contenders: list[Contender] | None = None, seed: int | None = None,
               flood_limit: int = 20, preload: bool = True, **options) -> VoteIntake:
    """The arena site (an ASGI app) over a store; ``contenders`` fixes the field (else the store's active models).

    ``options`` are further :class:`Settings` fields (``trusted_proxies``, ``secure_cookie``, ...).
    ``.app`` is the FastAPI app behind the vote intake, ``.arena`` the server's state."""
    settings = Settings(store_url, cache, max_new_tokens, limits or Limits(), flood_limit=flood_limit, seed=seed,
                        **options)
    arena = Arena(settings, contenders)
    env = Environment(loader=PackageLoader("dokja.arena.web", "templates"), autoescape=select_autoescape(["html"]))

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        if preload:
            threading.Thread(target=arena.preload, name="dokja-preload", daemon=True).start()
        yield
        arena.box.close()

    app = FastAPI(title="Dokja arena", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.arena = arena
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def give_cookie(request: Request, response: Response, token: str | None) -> Response:
        """Hand the visitor their signed token: script cannot read it, other sites cannot send it with a POST,
        and it never travels in clear text once the site is on https."""
        if token:
            response.set_cookie(COOKIE, token, max_age=180 * 86400, httponly=True, samesite="lax",
                                secure=arena.https(request.scope))
        return response

    def page(request: Request, name: str, **context) -> HTMLResponse:
        html = env.get_template(name).render(lang=_lang(request), path=request.url.path, **context)
        response = HTMLResponse(html)
        if not arena.visitors.valid(request.cookies.get(COOKIE)):  # none, or one this server never issued
            give_cookie(request, response, arena.new_visitor(request.scope))
        return response

    @app.get("/", response_class=HTMLResponse)
    def arena_page(request: Request):
        return page(request, "arena.html", max_chars=settings.limits.max_prompt_chars)

    @app.get("/about", response_class=HTMLResponse)
    def about_page(request: Request):
        return page(request, "about.html", rules_en=RULES_EN, rules_ko=RULES_KO, limits=settings.limits)

    @app.get("/leaderboard", response_class=HTMLResponse)
    def leaderboard_page(request: Request, view: str = "all", style: bool = False, ties: str = "half"):
        if view not in {v for v, _, _ in VIEWS} or ties not in ("half", "davidson"):
            return refuse("bad_request", 422)
        error = None
        try:
            lb = arena.board(view=view, style=style, ties=ties)
        except ValueError as exc:  # e.g. too few votes for the style-controlled fit
            lb, error = arena.board(view=view), str(exc)
        flagged = arena.with_flagged(ties) if view == "all" and not style and error is None else {}
        return page(request, "leaderboard.html", board=lb, chart=rating_chart(lb.rows), views=VIEWS, view=view,
                    style=style, ties=ties, error=error, flagged=flagged)

    @app.get("/leaderboard.json")
    def leaderboard_data(view: str = "all", style: bool = False, ties: str = "half", interval: str = "sandwich"):
        if view not in {v for v, _, _ in VIEWS}:
            return refuse("bad_request", 422)
        try:
            board = arena.board(view=view, style=style, ties=ties, interval=interval)
        except ArenaError:
            return refuse("bad_request", 422)
        return JSONResponse(leaderboard_json(board))

    @app.get("/votes.csv")
    def votes_csv():
        from ..export import votes_to_csv

        return PlainTextResponse(votes_to_csv(arena.votes_cached()), media_type="text/csv; charset=utf-8",
                                 headers={"content-disposition": 'attachment; filename="votes.csv"'})

    @app.get("/votes.jsonl")
    def votes_jsonl():
        from ..export import votes_to_jsonl

        return PlainTextResponse(votes_to_jsonl(arena.votes_cached()), media_type="application/x-ndjson",
                                 headers={"content-disposition": 'attachment; filename="votes.jsonl"'})

    @app.post("/api/battles")
    async def new_battle(request: Request):
        token = request.cookies.get(COOKIE)
        if not token:
            return refuse("no_session", 401)
        fresh = None
        if not arena.visitors.valid(token):  # a made-up or stale cookie: a new visitor, with a new one's budget
            fresh = token = await run_in_threadpool(arena.new_visitor, request.scope)
            if token is None:
                return refuse("new_visitors", 429)
        return give_cookie(request, await open_new_battle(request, token), fresh)

    @app.get("/api/challenge")
    async def get_challenge(request: Request):
        """The visitor's proof of work to do, or ``verified`` when there is none (done already, or not asked)."""
        token, fresh = request.cookies.get(COOKIE), None
        if not arena.visitors.valid(token):
            fresh = token = await run_in_threadpool(arena.new_visitor, request.scope)
            if token is None:
                return refuse("new_visitors", 429)
        body: dict = {"verified": True}
        if await run_in_threadpool(arena.proofs.needed, token):
            issued = arena.proofs.challenge(token)
            body = {"verified": False, "challenge": issued.token, "difficulty": issued.difficulty,
                    "expires": issued.expires}
        return give_cookie(request, JSONResponse(body, headers={"cache-control": "no-store"}), fresh)

    @app.post("/api/challenge")
    async def answer_challenge(request: Request):
        token = request.cookies.get(COOKIE)
        if not arena.visitors.valid(token):
            return refuse("no_session", 401)
        try:
            body = json.loads(await read_capped(request.stream(), 4096))
            challenge, nonce = body["challenge"], body["nonce"]
        except (BodyTooLarge, ValueError, TypeError, KeyError):
            return refuse("bad_request", 400)
        if not isinstance(challenge, str) or isinstance(nonce, bool) or not isinstance(nonce, (str, int)):
            return refuse("bad_request", 400)
        try:
            await run_in_threadpool(arena.proofs.answer, token, arena.address(request.scope), challenge, nonce)
        except ChallengeError as exc:
            status, refused = refusal("bad_proof", 403)
            return JSONResponse({**json.loads(refused), "why": str(exc)}, status_code=status)
        return JSONResponse({"verified": True})

    @app.get("/challenge.js")
    def challenge_script():
        """The solver the arena page runs, served from here: the page may only run same-origin scripts."""
        return Response(SCRIPT, media_type="text/javascript; charset=utf-8",
                        headers={"cache-control": "public, max-age=3600"})

    async def read_prompt(request: Request) -> str | Response:
        """The prompt from a JSON body, or the refusal: too large (even chunked), not JSON, not storable text."""
        limit = 16 * settings.limits.max_prompt_chars + 1024
        try:
            if int(request.headers.get("content-length") or 0) > limit:
                raise BodyTooLarge
            body = json.loads(await read_capped(request.stream(), limit))
        except BodyTooLarge:
            return refuse("prompt_too_long", 413, n=settings.limits.max_prompt_chars)
        except ValueError:
            return refuse("bad_request", 400)
        if not isinstance(body, dict):
            return refuse("bad_request", 400)
        prompt = body.get("prompt", "")
        problem = text_problem(prompt)
        return refuse(problem, 422) if problem else prompt.strip()

    async def open_new_battle(request: Request, token: str) -> Response:
        prompt = await read_prompt(request)
        if isinstance(prompt, Response):
            return prompt
        if not prompt:
            return refuse("empty_prompt", 422)
        if len(prompt) > settings.limits.max_prompt_chars:
            return refuse("prompt_too_long", 413, n=settings.limits.max_prompt_chars)
        address = arena.address(request.scope)
        refused = await run_in_threadpool(arena.prompt_refusal, token, address, prompt)
        if refused:
            return refuse(refused, 429)
        contenders, probabilities = await run_in_threadpool(arena.field)
        if len(contenders) < 2:
            return refuse("no_models", 503)
        try:
            arena.battles.reserve()
        except Busy:
            response = refuse("busy", 503)
            response.headers["retry-after"] = "10"
            return response
        model_a, model_b, p = draw_pair(probabilities, arena.rng)
        language, category = classify(prompt)

        def store():
            with arena.sessions.begin() as session:
                return open_battle(session, token=token, address=address, prompt=prompt, model_a=model_a,
                                   model_b=model_b, probability=p, weight=vote_weight(p, len(probabilities)),
                                   category=category, language=language).key

        try:
            key = await run_in_threadpool(store)
        except BaseException:
            arena.battles.release()
            raise
        by_name = {c.name: c for c in contenders}
        arena.battles.start(key, prompt, {"a": by_name[model_a], "b": by_name[model_b]}, owner=token)
        return JSONResponse({"battle": key, "stream": f"/api/battles/{key}/stream", "language": language,
                             "category": category}, status_code=201)

    def owns(request: Request, owner: str) -> bool:
        """Only the battle's own visitor may read its answers: keys are unguessable, but not secret forever."""
        token = request.cookies.get(COOKIE) or ""
        return bool(owner) and arena.visitors.valid(token) and hmac.compare_digest(token.encode(), owner.encode())

    @app.get("/api/battles/{key}/stream")
    async def stream(key: str, request: Request):
        channel = arena.battles.channels.get(key)
        if channel is not None and not owns(request, channel.owner):
            return refuse("not_yours", 403)
        if channel is None:
            def saved():
                with arena.sessions() as session:
                    row = battle(session, key)
                    if row is None:
                        return None, None
                    owner = session.scalar(select(Visitor.token).where(Visitor.id == row.visitor_id))
                    return owner, [(a.side, a.text, a.finished) for a in row.answers]
            owner, answers = await run_in_threadpool(saved)
            if answers is None:
                return refuse("unknown", 404)
            if not owns(request, owner):
                return refuse("not_yours", 403)

            async def replay():
                for side, text, finished in answers:
                    yield _sse("piece", {"side": side, "text": text})
                    yield _sse("done" if finished else "failed", {"side": side})
                yield _sse("end", {})
            return StreamingResponse(replay(), media_type="text/event-stream")

        async def events():
            async for kind, data in channel.follow():
                yield _sse(kind, data)
        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    @app.get("/healthz")
    async def healthz():
        return {"ok": True, "ready": arena.ready, "models_loaded": arena.backends.loaded()}

    return VoteIntake(app, arena, refusal)


def _sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
