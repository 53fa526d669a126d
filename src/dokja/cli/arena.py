"""`dokja serve` (the public arena site) and `dokja arena leaderboard` (the site's leaderboard, from the store).

The export and the recompute-from-export command live in `dokja votes`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .app import Cache, Db, app, console, guarded

arena_app = typer.Typer(help="The public arena: its leaderboard as the site computes it.", no_args_is_help=True)


def pin_threads(torch_threads: int) -> None:
    """One BLAS thread (small solves are slower with more on a small machine) and few torch threads,
    since the two sides of a battle generate at the same time."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:
        pass
    import torch

    torch.set_num_threads(max(1, torch_threads))


SERVE_OPTIONS = "DOKJA_SERVE_OPTIONS"  # how `serve --workers N` hands its options to each worker process


def build_site(options: dict):
    """The site one process serves, from `serve`'s options (plain JSON values, so workers can get them too)."""
    from ..arena.web import Limits
    from ..site import create_site

    pin_threads(options["torch_threads"])
    bundles = options["bundles"]
    return create_site(options["db_url"], bundles=Path(bundles) if bundles else None, cache=Path(options["cache"]),
                       max_new_tokens=options["max_new_tokens"], limits=Limits(**options["limits"]),
                       seed=options["seed"], trusted_proxies=tuple(options["trusted_proxies"]),
                       redis_url=options["redis_url"], pow_bits=options.get("pow_bits", 0))


def worker_site():
    """Each worker's site under `dokja serve --workers N` (a uvicorn app factory)."""
    return build_site(json.loads(os.environ[SERVE_OPTIONS]))


def prepare_store(db_url: Optional[str], cache: Path, redis_url: Optional[str]) -> None:
    """Migrate the store and make its secret once, before the workers start, so they never race to do either;
    an unreachable Redis is one line here rather than one per worker."""
    from ..arena.web.guard import load_secret, secret_path
    from ..arena.web.shared import open_counters
    from ..store import open_store

    engine = open_store(db_url).kw["bind"]
    load_secret(secret_path(engine.url, cache))
    open_counters(engine, redis_url)
    engine.dispose()


@app.command("serve")
@guarded
def serve(host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
          db_url: Db = None, cache: Cache = Path(".dokja"),
          max_new_tokens: Annotated[int, typer.Option(help="longest answer, in tokens")] = 256,
          torch_threads: Annotated[int, typer.Option(help="torch threads per process")] = 1,
          prompts_per_minute: Annotated[int, typer.Option(help="prompts a visitor may send a minute")] = 10,
          votes_per_minute: Annotated[int, typer.Option(help="votes a visitor may cast a minute")] = 30,
          per_address: Annotated[int, typer.Option(help="prompts a minute from one address "
                                                        "(votes: ten times as many)")] = 60,
          seed: Annotated[Optional[int], typer.Option(help="seed for drawing pairs")] = None,
          trusted_proxy: Annotated[Optional[list[str]], typer.Option(
              "--trusted-proxy", help="a proxy (address or CIDR) whose X-Forwarded-For and X-Forwarded-Proto "
                                      "are believed; repeat for several (default: none)")] = None,
          bundles: Annotated[Optional[Path], typer.Option(help="folder of signed bundles (STAGE.zip, as `dokja "
                                                                "bundle` writes them) offered with each published "
                                                                "result")] = None,
          workers: Annotated[int, typer.Option(min=1, help="worker processes; rate limits, floods and visitors "
                                                           "are counted in the store (or Redis) they share")] = 1,
          redis: Annotated[Optional[str], typer.Option(help="redis://HOST:PORT/DB for the shared counters "
                                                            "(default: the store)")] = None,
          pow_bits: Annotated[int, typer.Option("--pow-bits", min=0, max=64, help="proof of work a new visitor's "
                                                "browser does before its votes count, in leading zero bits "
                                                "(0: off); needs https or localhost")] = 18) -> None:
    """Serve the site: the public arena, the published results, and the office's, reviewers' and teams' pages."""
    import dataclasses

    import uvicorn

    from ..arena.web import Limits

    limits = Limits(prompts_per_visitor=prompts_per_minute, prompts_per_address=per_address,
                    votes_per_visitor=votes_per_minute, votes_per_address=10 * per_address)
    options = {"db_url": db_url, "bundles": str(bundles) if bundles else None, "cache": str(cache),
               "max_new_tokens": max_new_tokens, "torch_threads": torch_threads, "limits": dataclasses.asdict(limits),
               "seed": seed, "trusted_proxies": list(trusted_proxy or ()), "redis_url": redis,
               "pow_bits": pow_bits}
    run = {"host": host, "port": port, "log_level": "warning", "access_log": False, "proxy_headers": False}
    if workers == 1:
        site = build_site(options)
    else:
        prepare_store(db_url, cache, redis)
        os.environ[SERVE_OPTIONS] = json.dumps(options)
    console.print(f"[green]✓[/] arena at http://{host}:{port}/ (leaderboard: /leaderboard, results: /results, "
                  f"sign in: /login){f'; {workers} workers' if workers > 1 else ''}")
    if workers == 1:
        uvicorn.run(site, **run)
    else:
        uvicorn.run("dokja.cli.arena:worker_site", factory=True, workers=workers, **run)


@arena_app.command("leaderboard")
@guarded
def leaderboard(db_url: Db = None,
                ties: Annotated[str, typer.Option(help="half or davidson")] = "half",
                interval: Annotated[str, typer.Option(help="sandwich or bootstrap")] = "sandwich",
                category: Annotated[Optional[str], typer.Option(help="coding, math, general, ko or en")] = None,
                style: Annotated[bool, typer.Option("--style", help="style-controlled")] = False,
                as_json: Annotated[bool, typer.Option("--json", help="print the canonical JSON")] = False) -> None:
    """The leaderboard from the store's votes, honesty flags brought up to date first (as the site shows it)."""
    from ..arena import tables  # noqa: F401
    from ..arena.leaderboard import compute_leaderboard, leaderboard_json
    from ..arena.service import votes_from_store
    from ..store import open_store

    with open_store(db_url, create=False).begin() as session:
        records = votes_from_store(session)
    lb = compute_leaderboard(records, ties=ties, interval=interval, category=category, style=style)
    if as_json:
        typer.echo(json.dumps(leaderboard_json(lb), ensure_ascii=False, indent=1))
        return
    table = Table("rank", "model", "rating", "95% interval", "votes", "W / T / L",
                  title=f"Arena leaderboard 아레나 순위 — ties: {lb.ties}, intervals: {lb.interval}")
    for r in lb.rows:
        table.add_row(str(r.rank), r.model, f"{r.rating:.1f}", f"{r.lower:.1f} – {r.upper:.1f}", str(r.votes),
                      f"{r.wins} / {r.ties} / {r.losses}")
    console.print(table)
    console.print(f"{lb.n_votes} votes counted, {lb.n_excluded} left out (flagged or revealing a model)")


@arena_app.command("deanon")
@guarded
def deanon(db_url: Db = None,
           stage: Annotated[Optional[str], typer.Option(help="only the answers of this stage's battles "
                                                             "(default: every stage)")] = None) -> None:
    """Can the stored answers be told apart by model? A blind arena is only blind if they cannot."""
    from rich.markup import escape

    from ..arena import tables  # noqa: F401
    from ..arena.service import identity_check
    from ..store import open_store

    with open_store(db_url, create=False).begin() as session:
        found = identity_check(session, stage=stage)
    where = f"stage {stage}" if stage is not None else "every stage 전체 단계"
    console.print(f"Identity check 정체 노출 검사 — {escape(where)}: {found.answers} answers 답변, {found.folds}-fold")
    console.print(f"accuracy 정확도 {found.accuracy:.0%} · chance 우연 {found.chance:.0%} · "
                  f"binomial p = {found.pvalue:.1e}")
    if found.warning:
        console.print(f"[bold red]warning:[/] {escape(found.warning)}")
        console.print(f"[bold red]경고:[/] 답변만으로 모델을 알아볼 수 있습니다: 우연이면 {found.chance:.0%}인데 "
                      f"{found.accuracy:.0%}를 맞혔습니다 (답변 {found.answers}개, {found.folds}겹 교차검증). "
                      "특정 모델을 겨냥한 투표가 가능합니다.")
    else:
        console.print("[green]✓[/] no warning: the answers do not give their model away "
                      "경고 없음: 답변만으로는 모델을 알아보기 어렵습니다")
    table = Table("model 모델", "named correctly 식별률", "telling n-grams 특징 n-gram",
                  title="Each model's tell 모델별 특징")
    for model, recall in sorted(found.per_model.items()):
        tells = found.tells.get(model) or []
        table.add_row(escape(model), f"{recall:.0%}", escape(", ".join(repr(t) for t in tells)) if tells else "—")
    console.print(table)
