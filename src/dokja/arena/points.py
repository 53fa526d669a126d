"""Arena ratings into the stage's user-evaluation points, by the programme file's ``[arena]`` mapping.

A team is scored by its best-rated model; the options are described on
:class:`dokja.programme.schema.Arena`. Points go by tier, so that they never claim more than
the arena can tell: every model is credited with the best rating among the models ranked no
better than it (:func:`credited_ratings`). Models sharing a rank (the arena cannot tell them
apart) earn the same points; models far apart with many votes have different ranks, and so
different points. A model with no finite rating counts at its finite bound: an unbeaten one
at its lower bound ("at least"); a winless one never sets the best or the floor.
"""

from __future__ import annotations

import math
from typing import Mapping

from ..programme.schema import Arena
from .errors import ArenaError
from .leaderboard import Leaderboard, Row

__all__ = ["user_points", "model_points", "credited_ratings", "leaderboard_for_stage"]


def _value(r: Row) -> float:
    """What the rating is at least: the rating, or an unbeaten model's lower bound; nan when it has no floor."""
    if r.unbounded is None:
        return r.rating
    return r.lower if r.unbounded == "above" else math.nan


def credited_ratings(rows: list[Row]) -> dict[str, float]:
    """Model → the rating its points come from: the highest :func:`_value` among models ranked no better.

    Ranks come from simultaneous intervals, so a model is never credited below a model it shares a
    rank with, and a better rank is never credited less. A winless model below every rated one is
    credited at most its upper bound, capped at the lowest rated model.
    """
    pool = [(r.rank, _value(r)) for r in rows if math.isfinite(_value(r))]
    if not pool:
        raise ArenaError("no model on the leaderboard has a finite rating yet: collect more votes")
    lowest = min(v for _, v in pool)
    out = {}
    for r in rows:
        tier = [v for rank, v in pool if rank >= r.rank]
        out[r.model] = max(tier) if tier else min(r.upper, lowest)
    return out


def _named(rows: dict[str, Row], name: str, option: str) -> float:
    """A model's rating for ``arena.floor`` / ``arena.reference``: its value, or a winless model's upper bound."""
    if name not in rows:
        raise ArenaError(f"arena.{option}: model {name!r} is not on the leaderboard")
    r = rows[name]
    value = _value(r) if r.unbounded != "below" else r.upper
    if not math.isfinite(value):
        raise ArenaError(f"arena.{option}: model {name!r} has no finite rating or bound yet")
    return value


def model_points(lb: Leaderboard, *, mapping: Arena, total: float = 25.0) -> dict[str, float]:
    """Points per model on the leaderboard, out of ``total``, from the credited ratings."""
    rows = {r.model: r for r in lb.rows}
    if not rows:
        return {}
    if len({r.part for r in lb.rows}) > 1:
        raise ArenaError("arena points need one connected leaderboard, not one rated part by part")
    if mapping.points == "rank":
        n = len(rows)
        return {m: total * ((n - r.rank) / (n - 1) if n > 1 else 1.0) for m, r in rows.items()}
    credited = credited_ratings(lb.rows)
    if mapping.points == "linear":
        return _linear(rows, credited, mapping, total)
    ref = _named(rows, mapping.reference, "reference")
    return {m: total * min(1.0, _win_probability(credited[m], ref) / mapping.full_at) for m in rows}


def _linear(rows: dict[str, Row], credited: dict[str, float], mapping: Arena, total: float) -> dict[str, float]:
    values = [v for v in map(_value, rows.values()) if math.isfinite(v)]
    best = max(values)
    if mapping.floor is None:
        floor = min(values)
    elif isinstance(mapping.floor, str):
        floor = _named(rows, mapping.floor, "floor")
    else:
        floor = float(mapping.floor)
    span = best - floor
    return {m: total * (min(max((credited[m] - floor) / span, 0.0), 1.0) if span > 0 else 1.0) for m in rows}


def _win_probability(rating: float, against: float) -> float:
    """P(win) implied by two ratings on the Elo-like scale (ties as half wins)."""
    return 1.0 / (1.0 + 10.0 ** ((against - rating) / 400.0))


def user_points(lb: Leaderboard, teams: Mapping[str, str], *, mapping: Arena, total: float = 25.0) -> dict[str, float]:
    """Team → user-evaluation points out of ``total`` (the scheme's ``user``); ``teams`` maps model → team.

    Each team earns its best model's points; a team none of whose models is rated earns 0.
    """
    per_model = model_points(lb, mapping=mapping, total=total)
    out = {team: 0.0 for team in teams.values()}
    for model, team in teams.items():
        if model in per_model:
            out[team] = max(out[team], per_model[model])
    return out


def leaderboard_for_stage(votes, mapping: Arena) -> Leaderboard:
    """The leaderboard the mapping asks for (anchor, ties, intervals, style, convention), over all counted votes;
    votes in parts that never met are refused, since points compare every team on one scale."""
    from .leaderboard import compute_leaderboard

    return compute_leaderboard(votes, ties=mapping.ties, interval=mapping.interval, anchor=mapping.anchor,
                               anchor_rating=mapping.anchor_rating, style=mapping.style,
                               convention=mapping.convention, parts="refuse")
