"""Arena ratings into the stage's user-evaluation points, by the programme file's ``[arena]`` mapping.

A team is scored by its best-rated model; the options are described on
:class:`dokja.programme.schema.Arena`.
"""

from __future__ import annotations

from typing import Mapping

from ..programme.schema import Arena
from .errors import ArenaError
from .leaderboard import Leaderboard

__all__ = ["user_points", "model_points", "leaderboard_for_stage"]


def model_points(lb: Leaderboard, *, mapping: Arena, total: float = 25.0) -> dict[str, float]:
    """Points per model on the leaderboard, out of ``total``."""
    rows = {r.model: r for r in lb.rows}
    if not rows:
        return {}
    best = max(r.rating for r in rows.values())
    if mapping.points == "linear":
        if mapping.floor is None:
            floor = min(r.rating for r in rows.values())
        elif isinstance(mapping.floor, str):
            if mapping.floor not in rows:
                raise ArenaError(f"arena.floor: model {mapping.floor!r} is not on the leaderboard")
            floor = rows[mapping.floor].rating
        else:
            floor = float(mapping.floor)
        span = best - floor
        return {m: total * (min(max((r.rating - floor) / span, 0.0), 1.0) if span > 0 else 1.0)
                for m, r in rows.items()}
    if mapping.points == "rank":
        n = len(rows)
        return {m: total * ((n - r.rank) / (n - 1) if n > 1 else 1.0) for m, r in rows.items()}
    if mapping.reference not in rows:
        raise ArenaError(f"arena.reference: model {mapping.reference!r} is not on the leaderboard")
    ref = rows[mapping.reference].rating
    return {m: total * min(1.0, _win_probability(r.rating, ref) / mapping.full_at) for m, r in rows.items()}


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
    """The leaderboard the mapping asks for (anchor, ties, intervals, style), over all counted votes."""
    from .leaderboard import compute_leaderboard

    return compute_leaderboard(votes, ties=mapping.ties, interval=mapping.interval, anchor=mapping.anchor,
                               anchor_rating=mapping.anchor_rating, style=mapping.style)
