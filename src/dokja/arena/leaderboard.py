"""The leaderboard: one pure function from anonymised votes to ranked ratings with intervals.

The site and the ``recompute`` command both call :func:`compute_leaderboard`, so a leaderboard
recomputed from the public export equals the published one exactly. Votes are put in a canonical
order before they are summed, models are indexed in sorted order and the bootstrap has a fixed
seed: the same votes give the same numbers, bit for bit, whatever order they arrive in.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .bootstrap import bootstrap
from .cells import aggregate
from .errors import ArenaError
from .ratings import TIES, fit, ranks, sandwich
from .style import COVARIATES, style_covariates, style_fit, style_intervals

__all__ = ["OUTCOMES", "INTERVALS", "VoteRecord", "Row", "Leaderboard", "compute_leaderboard",
           "leaderboard_json"]

OUTCOMES = ("a", "b", "tie", "both_bad")
INTERVALS = ("sandwich", "bootstrap")
_CODE = {o: k for k, o in enumerate(OUTCOMES)}
FALLBACK_ALPHA = 0.01  # ridge used only when the plain MLE does not exist (early days: a model never lost)


@dataclass(frozen=True)
class VoteRecord:
    """One anonymised vote as exported: no visitor, session or address.

    ``weight`` is the inverse of the pair's sampling probability (normalised so that uniform
    sampling gives 1); ``len_*`` and ``md_*`` are the answers' style features; ``flagged``
    marks a vote from a visitor the honesty tests flagged, ``reveals_identity`` a battle whose
    answers named a model or its maker. Both kinds are kept in the export and left out of
    the ratings.
    """

    battle: str
    model_a: str
    model_b: str
    outcome: str
    category: str = "general"
    language: str = "other"
    weight: float = 1.0
    len_a: int = 0
    len_b: int = 0
    md_a: int = 0
    md_b: int = 0
    flagged: bool = False
    reveals_identity: bool = False


@dataclass
class Row:
    model: str
    rating: float
    lower: float
    upper: float
    rank: int
    votes: int
    wins: int
    ties: int
    losses: int


@dataclass
class Leaderboard:
    """Rows best first. ``lower``/``upper`` are marginal intervals at ``params['level']``; ranks come from
    simultaneous ones (rank = 1 + models surely better), so near-equal models share a rank."""

    ties: str
    interval: str
    anchor: str
    rows: list[Row]
    params: dict = field(default_factory=dict)
    n_votes: int = 0
    n_excluded: int = 0
    category: str | None = None
    style_controlled: bool = False


def compute_leaderboard(votes: Iterable[VoteRecord], *, ties: str = "half", interval: str = "sandwich",
                        anchor: str | None = None, anchor_rating: float = 1000.0, category: str | None = None,
                        style: bool = False, rounds: int = 1000, seed: int = 0, level: float = 0.95) -> Leaderboard:
    """Ratings, intervals and ranks from votes, leaving out flagged votes and identity-revealing battles.

    ``category`` keeps votes whose category or language equals it ("coding", "math", "ko", "en"…).
    ``anchor`` names the model fixed at ``anchor_rating``; without one the field's mean rating is
    ``anchor_rating``. Votes are weighted by :attr:`VoteRecord.weight`. Both-bad votes count as ties.
    ``style=True`` gives the style-controlled view (half convention only).
    """
    if ties not in TIES:
        raise ArenaError(f"ties must be one of {', '.join(TIES)}, not {ties!r}")
    if interval not in INTERVALS:
        raise ArenaError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    if style and ties != "half":
        raise ArenaError("the style-controlled view uses the half-win convention; pass ties='half'")
    in_view = [v for v in votes if category is None or category in (v.category, v.language)]
    for v in in_view:
        if v.outcome not in _CODE:
            raise ArenaError(f"battle {v.battle}: outcome must be one of {', '.join(OUTCOMES)}, not {v.outcome!r}")
        if v.model_a == v.model_b:
            raise ArenaError(f"battle {v.battle}: a model cannot face itself ({v.model_a})")
        if not (math.isfinite(v.weight) and v.weight > 0):
            raise ArenaError(f"battle {v.battle}: weight must be a positive number, not {v.weight!r}")
    kept = sorted((v for v in in_view if not (v.flagged or v.reveals_identity)), key=_canonical)
    params = {"level": level, "anchor_rating": anchor_rating, "both_bad": "tie"}
    if interval == "bootstrap":
        params.update(rounds=rounds, seed=seed)
    board = Leaderboard(ties, interval, anchor or "mean", [], params, len(kept), len(in_view) - len(kept),
                        category, style)
    models = sorted({v.model_a for v in kept} | {v.model_b for v in kept})
    if anchor is not None and anchor not in models:
        raise ArenaError(f"anchor model {anchor!r} has no counted votes; models are {', '.join(models) or 'none'}")
    if len(models) < 2:
        return board
    index = {m: k for k, m in enumerate(models)}
    a = np.array([index[v.model_a] for v in kept])
    b = np.array([index[v.model_b] for v in kept])
    outcome = np.array([_CODE[v.outcome] for v in kept])
    weight = np.array([v.weight for v in kept], dtype=np.float64)
    params["weighted"] = bool((weight != 1.0).any())
    anchor_index = index[anchor] if anchor is not None else 0
    if style:
        ci = _style_view(kept, a, b, outcome, weight, len(models), anchor_index, anchor_rating, interval, rounds,
                         seed, level, params)
    else:
        ci = _plain_view(a, b, outcome, weight, len(models), ties, anchor_index, anchor_rating, interval, rounds,
                         seed, level, params)
    shift = 0.0 if anchor is not None else anchor_rating - float(ci.rating.mean())
    rank = ranks(ci.joint_lower, ci.joint_upper)
    tally = _tally(kept)
    rows = [Row(m, float(ci.rating[k] + shift), float(ci.lower[k] + shift), float(ci.upper[k] + shift), int(rank[k]),
                *tally[m]) for k, m in enumerate(models)]
    rows.sort(key=lambda r: (-r.rating, r.model))
    board.rows = rows
    return board


def _canonical(v: VoteRecord):
    return (v.battle, v.model_a, v.model_b, v.outcome, v.weight, v.len_a, v.len_b, v.md_a, v.md_b)


def _plain_view(a, b, outcome, weight, n, ties, anchor_index, anchor_rating, interval, rounds, seed, level, params):
    cells = aggregate(a, b, outcome, weight=weight if params["weighted"] else None, n_models=n)
    alpha = 0.0
    try:
        point = fit(cells, ties=ties, anchor=anchor_index, anchor_value=anchor_rating)
    except ValueError as exc:
        if "no finite MLE" not in str(exc):
            raise ArenaError(str(exc)) from exc
        alpha = FALLBACK_ALPHA
        point = fit(cells, ties=ties, anchor=anchor_index, anchor_value=anchor_rating, alpha=alpha)
    params["alpha"] = alpha
    if interval == "sandwich":
        ci = sandwich(cells, point, level=level)
    else:
        ci = bootstrap(cells, rounds=rounds, seed=seed, point=point, level=level)
        params["dropped"] = int(ci.dropped)
    if ties == "davidson":
        params.update(nu=_num(ci.nu), nu_lower=_num(ci.nu_lower), nu_upper=_num(ci.nu_upper))
    return ci


def _style_view(kept, a, b, outcome, weight, n, anchor_index, anchor_rating, interval, rounds, seed, level, params):
    y = np.where(outcome == 0, 1.0, np.where(outcome == 1, 0.0, 0.5))
    z = style_covariates([v.len_a for v in kept], [v.len_b for v in kept], [v.md_a for v in kept],
                         [v.md_b for v in kept])
    live = [c for c in range(z.shape[1]) if np.any(z[:, c] != 0)]  # a covariate that never varies has no effect
    z = z[:, live]
    try:
        sf = style_fit(a, b, y, weight, z, n, anchor=anchor_index, anchor_value=anchor_rating)
        ci = style_intervals(sf, a, b, y, weight, z, method=interval, level=level, rounds=rounds, seed=seed)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ArenaError(f"style-controlled ratings: {exc}") from exc
    se = np.sqrt(np.diag(sf.cov)[n:])
    params["style"] = {name: ({"coef": float(sf.beta[live.index(c)]), "se": float(se[live.index(c)])}
                              if c in live else None) for c, name in enumerate(COVARIATES)}
    params["alpha"] = 0.0
    if interval == "bootstrap":
        params["dropped"] = int(ci.dropped)
    return ci


def _tally(kept) -> dict[str, tuple[int, int, int, int]]:
    """Unweighted (votes, wins, ties, losses) per model; both-bad counts as a tie."""
    c = Counter()
    for v in kept:
        c[v.model_a, "votes"] += 1
        c[v.model_b, "votes"] += 1
        if v.outcome == "a":
            c[v.model_a, "wins"] += 1
            c[v.model_b, "losses"] += 1
        elif v.outcome == "b":
            c[v.model_b, "wins"] += 1
            c[v.model_a, "losses"] += 1
        else:
            c[v.model_a, "ties"] += 1
            c[v.model_b, "ties"] += 1
    models = {m for m, _ in c}
    return {m: (c[m, "votes"], c[m, "wins"], c[m, "ties"], c[m, "losses"]) for m in models}


def _num(x):
    return None if x is None else float(x)


def leaderboard_json(lb: Leaderboard) -> dict:
    """The canonical JSON form: full-precision numbers (rounding is for display only)."""
    out = dataclasses.asdict(lb)
    out["rows"] = [dataclasses.asdict(r) for r in lb.rows]
    return out
