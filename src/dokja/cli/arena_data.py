"""`dokja votes export` and `dokja votes recompute`: the open half of the arena.

Anyone holding the exported votes can recompute the published leaderboard with the same
function the site uses, and get the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .app import Db, console, guarded, out_path

arena_data_app = typer.Typer(help="The arena's votes: anonymised export, and the leaderboard recomputed from it.",
                             no_args_is_help=True)

Ties = Annotated[str, typer.Option("--ties", help="half: a tie is half a win (as published arena leaderboards); "
                                              "davidson: an explicit tie model")]
Interval = Annotated[str, typer.Option("--interval", help="sandwich (robust) or bootstrap over the counts")]


@arena_data_app.command("export")
@guarded
def export(out: Annotated[Path, typer.Option("--out", help="votes.csv or votes.jsonl")], db_url: Db = None,
           cache: Annotated[Path, typer.Option("--cache", envvar="DOKJA_CACHE",
                                               help="where a server store's arena secret lives")] = Path(".dokja"),
           ) -> None:
    """Write every vote, anonymised (no visitor, session or address; battles by their public id, as the site
    publishes them), flagged ones marked."""
    from ..arena import tables  # noqa: F401  (the arena's tables must be known before the store opens)
    from ..arena.export import write_votes
    from ..arena.service import votes_from_store
    from ..store import open_store

    import dataclasses

    from ..arena.web.guard import Visitors, load_secret, secret_path

    out_path(out)
    sessions = open_store(db_url, create=False)
    visitors = Visitors(load_secret(secret_path(sessions.kw["bind"].url, cache)))
    with sessions.begin() as session:
        records = [dataclasses.replace(r, battle=visitors.public_id(r.battle)) for r in votes_from_store(session)]
    n = write_votes(records, out)
    counted = sum(1 for r in records if not (r.flagged or r.reveals_identity))
    console.print(f"[green]✓[/] {n} votes ({counted} counted) written to {out}")


@arena_data_app.command("recompute")
@guarded
def recompute(votes: Annotated[Path, typer.Argument(help="an export: votes.csv or votes.jsonl")],
              ties: Ties = "half", interval: Interval = "sandwich",
              anchor: Annotated[Optional[str], typer.Option(help="model fixed at --anchor-rating "
                                                                 "[default: the field's mean]")] = None,
              anchor_rating: Annotated[float, typer.Option(help="the anchor's rating")] = 1000.0,
              category: Annotated[Optional[str], typer.Option(help="only votes of this category or language: "
                                                                   "coding, math, general, ko, en")] = None,
              style: Annotated[bool, typer.Option("--style", help="style-controlled (length and markdown)")] = False,
              rounds: Annotated[int, typer.Option(help="bootstrap rounds")] = 1000,
              seed: Annotated[int, typer.Option(help="bootstrap seed")] = 0,
              as_json: Annotated[bool, typer.Option("--json", help="print the canonical JSON instead")] = False,
              ) -> None:
    """The leaderboard from an export, computed exactly as the site computes it."""
    from ..arena.export import read_votes
    from ..arena.leaderboard import compute_leaderboard, leaderboard_json

    lb = compute_leaderboard(read_votes(votes), ties=ties, interval=interval, anchor=anchor,
                             anchor_rating=anchor_rating, category=category, style=style, rounds=rounds, seed=seed)
    if as_json:
        typer.echo(json.dumps(leaderboard_json(lb), ensure_ascii=False, indent=1))
        return
    title = (f"Arena leaderboard 아레나 순위 — ties: {lb.ties}, intervals: {lb.interval}"
             + (", style-controlled" if lb.style_controlled else "") + (f", {lb.category}" if lb.category else ""))
    level = round(100 * lb.params.get("level", 0.95))
    parts = len({r.part for r in lb.rows}) > 1
    table = Table("rank", "model", "rating", f"{level}% interval", "votes", "W / T / L", title=title)
    if parts:
        table.add_column("part")
    for r in lb.rows:
        row = [str(r.rank), r.model, _rating(r), f"{_bound(r.lower)} – {_bound(r.upper)}", str(r.votes),
               f"{r.wins} / {r.ties} / {r.losses}"]
        table.add_row(*(row + [str(r.part)] if parts else row))
    console.print(table)
    note = f"{lb.n_votes} votes counted, {lb.n_excluded} left out (flagged or revealing a model)"
    if lb.params.get("nu") is not None:
        note += f"; Davidson ν = {lb.params['nu']:.3f}"
    if parts:
        note += "; the votes form parts that never met, each rated on its own (ranks within a part only)"
    if any(r.unbounded for r in lb.rows):
        note += "; a model that never lost (or never won) has no finite rating: only the bound shown"
    console.print(note)


def _bound(x: float) -> str:
    return "∞" if x == float("inf") else "−∞" if x == float("-inf") else "—" if x != x else f"{x:.1f}"


def _rating(r) -> str:
    """A rating, or what is known of it when there is no finite one."""
    if r.unbounded == "above":
        return f"≥ {r.lower:.1f}"
    if r.unbounded == "below":
        return f"≤ {r.upper:.1f}"
    return "—" if r.unbounded else f"{r.rating:.1f}"
