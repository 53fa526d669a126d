"""The leaderboard: one pure function from anonymised votes to ranked ratings with intervals.

The site and the ``recompute`` command both call :func:`compute_leaderboard`, so a leaderboard
recomputed from the public export equals the published one exactly. Votes are put in a canonical
order before they are summed, models are indexed in sorted order and the bootstrap has a fixed
seed: the same votes give the same numbers, bit for bit, whatever order they arrive in.

It claims only what the votes support (``support.py``, ``bounds.py``): parts of the vote graph
that never met are never ranked together, and a model that never lost (or never won) gets no
finite rating, only a one-sided bound.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .bootstrap import bootstrap
from .bounds import outside_bounds, widen_thin
from .cells import UNIT, CellCount, Cells, aggregate, fixed, subset, summed
from .errors import ArenaError
from .ratings import CONVENTIONS, TIES, arena_ridge_alpha, fit, ranks, sandwich
from .style import COVARIATES, style_covariates, style_fit, style_intervals
from .support import ABOVE, BELOW, EITHER, Support, parts, support

__all__ = ["OUTCOMES", "INTERVALS", "PARTS", "VoteRecord", "Row", "Leaderboard", "FlagEffect", "compute_leaderboard",
           "flag_effects", "leaderboard_json"]

OUTCOMES = ("a", "b", "tie", "both_bad")
INTERVALS = ("sandwich", "bootstrap")
PARTS = ("refuse", "separate")
_CODE = {o: k for k, o in enumerate(OUTCOMES)}


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
    stage: str = ""  # the stage the battle was fought in; "" in exports made before votes carried one


@dataclass
class Row:
    """One model. ``unbounded`` is "above" for a model with no finite rating because it never lost to the
    reference group (``rating`` is +inf, ``lower`` its exact lower bound, ``upper`` +inf), "below" for the
    mirror case, "both" when it can lie on either side (rating nan, interval unbounded both ways), else None.
    Under the arena-ridge convention ``rating`` stays the penalised (finite) one; the interval is as above.
    ``part`` numbers the connected part of the vote graph the model is rated in (1 unless rated part by part).
    """

    model: str
    rating: float
    lower: float
    upper: float
    rank: int
    votes: int
    wins: int
    ties: int
    losses: int
    unbounded: str | None = None
    part: int = 1


@dataclass
class Leaderboard:
    """Rows best first. ``lower``/``upper`` are marginal intervals at ``params['level']``; ranks come from
    simultaneous ones (rank = 1 + models surely better), so near-equal models share a rank.

    When some models have no finite rating, ``params['reference']`` lists the models whose ratings are
    finite; "the field's mean" is then their mean. Rated part by part, ``params['parts']`` describes each part
    and ranks hold within a part only.
    """

    ties: str
    interval: str
    anchor: str
    rows: list[Row]
    params: dict = field(default_factory=dict)
    n_votes: int = 0
    n_excluded: int = 0
    category: str | None = None
    style_controlled: bool = False


@dataclass(frozen=True)
class _Options:
    ties: str
    interval: str
    anchor: str | None
    anchor_rating: float
    style: bool
    rounds: int
    seed: int
    level: float
    convention: str


@dataclass(frozen=True)
class _Estimate:
    """Per-model arrays on the rating scale; nan where the fit did not rate the model."""

    rating: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    joint_lower: np.ndarray
    joint_upper: np.ndarray


def compute_leaderboard(votes: Iterable[VoteRecord | CellCount], *, ties: str = "half", interval: str = "sandwich",
                        anchor: str | None = None, anchor_rating: float = 1000.0, category: str | None = None,
                        style: bool = False, rounds: int = 1000, seed: int = 0, level: float = 0.95,
                        convention: str = "mle", parts: str = "separate") -> Leaderboard:
    """Ratings, intervals and ranks from votes, leaving out flagged votes and identity-revealing battles.

    ``category`` keeps votes whose category or language equals it ("coding", "math", "ko", "en"…).
    ``anchor`` names the model fixed at ``anchor_rating``; without one the field's mean rating is
    ``anchor_rating``. Votes are weighted by :attr:`VoteRecord.weight`. Both-bad votes count as ties.
    ``style=True`` gives the style-controlled view (half convention only). ``convention="arena-ridge"``
    gives the published arena notebook's ridge-penalised ratings (see :func:`arena_ridge_alpha`).
    Votes in parts that never met are never ranked together: ``parts="separate"`` (the default, so the
    site shows early boards) rates each part on its own, ranks within it and numbers it in
    :attr:`Row.part`; ``parts="refuse"`` (what stage points use) raises an :class:`ArenaError` naming them.

    ``votes`` may also be the store's counts (:class:`~dokja.arena.cells.CellCount`), which give the same board
    as the votes they count, for every view but the style-controlled one (that needs each vote's answers).
    """
    opt = _Options(ties, interval, anchor, anchor_rating, style, rounds, seed, level, convention)
    _check_options(opt, parts)
    in_view = [v for v in votes if category is None or category in (v.category, v.language)]
    for v in in_view:
        _check_vote(v)
    kept = [v for v in in_view if not (v.flagged or v.reveals_identity)]
    if style and any(isinstance(v, CellCount) for v in kept):
        raise ArenaError("the style-controlled view needs each vote's answers, not the store's counts")
    counts, ballots = _pair_counts(kept), sorted(kept, key=_canonical) if style else []
    params = {"level": level, "anchor_rating": anchor_rating, "both_bad": "tie", "convention": convention}
    if interval == "bootstrap":
        params.update(rounds=rounds, seed=seed)
    n_kept = _n(counts)
    board = Leaderboard(ties, interval, anchor or "mean", [], params, n_kept, sum(map(_votes, in_view)) - n_kept,
                        category, style)
    models = sorted({a for a, _, _ in counts} | {b for _, b, _ in counts})
    if anchor is not None and anchor not in models:
        raise ArenaError(f"anchor model {anchor!r} has no counted votes; models are {', '.join(models) or 'none'}")
    if len(models) < 2:
        return board
    groups = _groups(counts, models)
    if len(groups) == 1:
        board.rows, extra = _rate(counts, ballots, models, opt)
        params.update(extra)
        return board
    if parts == "refuse":
        raise ArenaError(_disconnected(groups))
    params["parts"] = []
    for number, names in enumerate(groups, 1):
        inside = set(names)
        sub = {key: c for key, c in counts.items() if key[0] in inside}
        rows, extra = _rate(sub, [v for v in ballots if v.model_a in inside], names,
                            dataclasses.replace(opt, anchor=anchor if anchor in inside else None))
        board.rows += [dataclasses.replace(r, part=number) for r in rows]
        params["parts"].append({"part": number, "models": names, "n_votes": _n(sub), **extra})
    return board


def _pair_counts(kept) -> dict[tuple[str, str, str], list[int]]:
    """(model A, model B, outcome) → [votes, summed weight, summed squared weight], weights in units of 2⁻³²:
    whole numbers, so the sums are exact whatever order the votes (or the store's counts) come in."""
    out: dict[tuple[str, str, str], list[int]] = {}
    for v in kept:
        if isinstance(v, CellCount) and not v.n:
            continue
        c = out.setdefault((v.model_a, v.model_b, v.outcome), [0, 0, 0])
        if isinstance(v, CellCount):
            c[0], c[1], c[2] = c[0] + v.n, c[1] + v.w, c[2] + v.w2
        else:
            c[0], c[1], c[2] = c[0] + 1, c[1] + fixed(v.weight), c[2] + fixed(v.weight * v.weight)
    return out


def _n(counts: dict) -> int:
    return sum(c[0] for c in counts.values())


def _votes(v) -> int:
    return v.n if isinstance(v, CellCount) else 1


def _check_options(opt: _Options, parts: str) -> None:
    if opt.ties not in TIES:
        raise ArenaError(f"ties must be one of {', '.join(TIES)}, not {opt.ties!r}")
    if opt.interval not in INTERVALS:
        raise ArenaError(f"interval must be one of {', '.join(INTERVALS)}, not {opt.interval!r}")
    if opt.convention not in CONVENTIONS:
        raise ArenaError(f"convention must be one of {', '.join(CONVENTIONS)}, not {opt.convention!r}")
    if parts not in PARTS:
        raise ArenaError(f"parts must be one of {', '.join(PARTS)}, not {parts!r}")
    if opt.style and opt.ties != "half":
        raise ArenaError("the style-controlled view uses the half-win convention; pass ties='half'")
    if opt.convention == "arena-ridge" and (opt.ties != "half" or opt.style):
        raise ArenaError("the arena-ridge convention is the plain half-win fit; pass ties='half' and no style")
    if opt.interval == "bootstrap" and not (isinstance(opt.rounds, int) and opt.rounds >= 2):
        raise ArenaError(f"bootstrap rounds must be at least 2, not {opt.rounds!r}")
    if not 0 < opt.level < 1:
        raise ArenaError(f"level must lie strictly between 0 and 1, not {opt.level!r}")


def _check_vote(v: VoteRecord | CellCount) -> None:
    if isinstance(v, CellCount):
        if v.outcome not in _CODE or v.model_a == v.model_b or v.n < 0 or v.w < 0:
            raise ArenaError(f"stored count {v.model_a} vs {v.model_b} ({v.outcome}, {v.n} votes) is not a vote count")
        return
    if v.outcome not in _CODE:
        raise ArenaError(f"battle {v.battle}: outcome must be one of {', '.join(OUTCOMES)}, not {v.outcome!r}")
    if v.model_a == v.model_b:
        raise ArenaError(f"battle {v.battle}: a model cannot face itself ({v.model_a})")
    if not (math.isfinite(v.weight) and v.weight > 0):
        raise ArenaError(f"battle {v.battle}: weight must be a positive number, not {v.weight!r}")


def _canonical(v: VoteRecord):
    return (v.battle, v.model_a, v.model_b, v.outcome, v.weight, v.len_a, v.len_b, v.md_a, v.md_b)


def _groups(counts: dict, models: list[str]) -> list[list[str]]:
    """The connected parts of the vote graph, as sorted model names, largest first."""
    index = {m: k for k, m in enumerate(models)}
    a = np.array([index[x] for x, _, _ in counts])
    b = np.array([index[y] for _, y, _ in counts])
    found = parts(aggregate(a, b, np.zeros(a.size, int), n_models=len(models)))
    return [[models[k] for k in g] for g in found]


def _disconnected(groups: list[list[str]]) -> str:
    named = ["{" + ", ".join(g) + "}" for g in groups]
    listed = ", ".join(named[:-1]) + " and " + named[-1]
    return (f"arena votes form {len(groups)} disconnected groups that never met: {listed}; "
            "ratings across them are undefined")


def _rate(counts: dict, ballots: list[VoteRecord], models: list[str], opt: _Options) -> tuple[list[Row], dict]:
    """Rows (best first, ranked) and fit parameters for one connected set of votes: their counts, and for the
    style-controlled view the votes themselves (``ballots``)."""
    index = {m: k for k, m in enumerate(models)}
    keys = sorted(counts)
    a, b = np.array([index[k[0]] for k in keys]), np.array([index[k[1]] for k in keys])
    outcome = np.array([_CODE[k[2]] for k in keys])
    n, w, w2 = (np.array([counts[k][c] / (UNIT if c else 1) for k in keys]) for c in range(3))
    params: dict = {"weighted": any(c[1] != c[0] * UNIT or c[2] != c[0] * UNIT for c in counts.values())}
    cells = summed(a, b, outcome, w if params["weighted"] else n, w2 if params["weighted"] else None, len(models))
    anchor_index = index[opt.anchor] if opt.anchor is not None else None
    sup = support(cells, anchor_index)
    if not sup.bounded:
        params["reference"] = [models[k] for k in sup.reference]
    try:
        if opt.style:
            est = _style_view(ballots, index, sup, anchor_index, opt, params)
        else:
            est = _plain_view(cells, sup, anchor_index, opt, params)
    except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
        raise ArenaError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    rating, lower, upper, jl, ju = _complete(cells, sup, est, opt)
    rank = ranks(jl, ju)
    tally = _tally(counts)
    rows = [Row(m, float(rating[k]), float(lower[k]), float(upper[k]), int(rank[k]), *tally[m],
                unbounded=sup.side[k]) for k, m in enumerate(models)]
    rows.sort(key=_order)
    return rows, params


def _complete(cells: Cells, sup: Support, est: _Estimate, opt: _Options):
    """All models' ratings and intervals: outside the reference group, one-sided exact bounds.

    Under the MLE a model outside it has no finite rating (+inf above, −inf below, nan either side);
    the arena-ridge convention keeps its penalised rating, but not the false certainty of its interval.
    """
    if sup.bounded:
        return est.rating, est.lower, est.upper, est.joint_lower, est.joint_upper
    n = cells.n_models
    lower, upper = outside_bounds(cells, sup, est.lower, est.upper, (1 - opt.level) / 2)
    jl, ju = outside_bounds(cells, sup, est.joint_lower, est.joint_upper, (1 - opt.level) / (2 * n))
    side = np.array([s or "" for s in sup.side])
    if opt.convention == "arena-ridge":
        rating = est.rating
        lower, jl = np.minimum(lower, rating), np.minimum(jl, rating)
        upper, ju = np.maximum(upper, rating), np.maximum(ju, rating)
    else:
        rating = np.where(side == ABOVE, np.inf, np.where(side == BELOW, -np.inf,
                                                         np.where(side == EITHER, np.nan, est.rating)))
    return rating, lower, upper, jl, ju


def _order(r: Row):
    """Best first: finite ratings by rating; else unbeaten ones by lower bound, then winless, then the rest."""
    if math.isfinite(r.rating):
        return (1, -r.rating, r.model)
    if r.unbounded == ABOVE:
        return (0, -r.lower, r.model)
    if r.unbounded == BELOW:
        return (2, -r.upper, r.model)
    return (3, 0.0, r.model)


def _empty(n: int) -> _Estimate:
    return _Estimate(*(np.full(n, np.nan) for _ in range(5)))


def _place(est: _Estimate, where: np.ndarray, ci, shift: float) -> _Estimate:
    """``est`` with the models at ``where`` filled from intervals ``ci``, moved by ``shift``."""
    for name, values in (("rating", ci.rating), ("lower", ci.lower), ("upper", ci.upper),
                         ("joint_lower", ci.joint_lower), ("joint_upper", ci.joint_upper)):
        getattr(est, name)[where] = np.asarray(values) + shift
    return est


def _local(where: np.ndarray, anchor_index: int | None) -> int:
    return int(np.flatnonzero(where == anchor_index)[0]) if anchor_index is not None else 0


def _plain_view(cells: Cells, sup: Support, anchor_index, opt: _Options, params: dict) -> _Estimate:
    """The MLE on the reference group's votes; or, as published, the arena ridge over all of them."""
    ridge = opt.convention == "arena-ridge"
    where = np.arange(cells.n_models) if ridge else sup.reference
    alpha = arena_ridge_alpha() if ridge else 0.0
    params["alpha"] = alpha
    est = _empty(cells.n_models)
    if where.size == 1:  # a reference group of one model: it is the scale's zero, nothing to estimate
        est.rating[where] = est.lower[where] = est.upper[where] = opt.anchor_rating
        est.joint_lower[where] = est.joint_upper[where] = opt.anchor_rating
        return est
    sub = subset(cells, where)
    point = fit(sub, ties=opt.ties, anchor=_local(where, anchor_index), anchor_value=opt.anchor_rating,
                alpha=alpha)
    if opt.interval == "sandwich":
        ci = sandwich(sub, point, level=opt.level)
    else:
        ci = bootstrap(sub, rounds=opt.rounds, seed=opt.seed, point=point, level=opt.level)
        params["dropped"] = int(ci.dropped)
    ci = widen_thin(ci, sub, point)
    if opt.ties == "davidson":
        params.update(nu=_num(ci.nu), nu_lower=_num(ci.nu_lower), nu_upper=_num(ci.nu_upper))
    shift = 0.0 if anchor_index is not None else opt.anchor_rating - float(ci.rating.mean())
    return _place(est, where, ci, shift)


def _style_view(kept, index: dict, sup: Support, anchor_index, opt: _Options, params: dict) -> _Estimate:
    """Style-controlled ratings of the reference group, from its own votes."""
    a, b = np.array([index[v.model_a] for v in kept]), np.array([index[v.model_b] for v in kept])
    outcome = np.array([_CODE[v.outcome] for v in kept])
    weight = np.array([v.weight for v in kept], dtype=np.float64)
    n = len(sup.side)
    where = sup.reference
    est = _empty(n)
    params["alpha"] = 0.0
    if where.size == 1:
        est.rating[where] = est.lower[where] = est.upper[where] = opt.anchor_rating
        est.joint_lower[where] = est.joint_upper[where] = opt.anchor_rating
        return est
    local = np.full(n, -1)
    local[where] = np.arange(where.size)
    inside = (local[a] >= 0) & (local[b] >= 0)
    votes = [v for v, keep in zip(kept, inside) if keep]
    a, b, outcome, weight = local[a[inside]], local[b[inside]], outcome[inside], weight[inside]
    y = np.where(outcome == 0, 1.0, np.where(outcome == 1, 0.0, 0.5))
    z = style_covariates([v.len_a for v in votes], [v.len_b for v in votes], [v.md_a for v in votes],
                         [v.md_b for v in votes])
    live = [c for c in range(z.shape[1]) if np.any(z[:, c] != 0)]  # a covariate that never varies has no effect
    z = z[:, live]
    try:
        sf = style_fit(a, b, y, weight, z, where.size, anchor=_local(where, anchor_index),
                       anchor_value=opt.anchor_rating)
        ci = style_intervals(sf, a, b, y, weight, z, method=opt.interval, level=opt.level, rounds=opt.rounds,
                             seed=opt.seed)
    except (ValueError, np.linalg.LinAlgError) as exc:
        raise ArenaError(f"style-controlled ratings: {exc}") from exc
    se = np.sqrt(np.diag(sf.cov)[where.size:])
    params["style"] = {name: ({"coef": float(sf.beta[live.index(c)]), "se": float(se[live.index(c)])}
                              if c in live else None) for c, name in enumerate(COVARIATES)}
    if opt.interval == "bootstrap":
        params["dropped"] = int(ci.dropped)
    shift = 0.0 if anchor_index is not None else opt.anchor_rating - float(ci.rating.mean())
    return _place(est, where, ci, shift)


def _tally(counts: dict) -> dict[str, tuple[int, int, int, int]]:
    """Unweighted (votes, wins, ties, losses) per model; both-bad counts as a tie."""
    c = Counter()
    for (model_a, model_b, outcome), (k, _, _) in counts.items():
        c[model_a, "votes"] += k
        c[model_b, "votes"] += k
        if outcome == "a":
            c[model_a, "wins"] += k
            c[model_b, "losses"] += k
        elif outcome == "b":
            c[model_b, "wins"] += k
            c[model_a, "losses"] += k
        else:
            c[model_a, "ties"] += k
            c[model_b, "ties"] += k
    models = {m for m, _ in c}
    return {m: (c[m, "votes"], c[m, "wins"], c[m, "ties"], c[m, "losses"]) for m in models}


def _num(x):
    return None if x is None else float(x)


def _json_safe(value):
    """Non-finite numbers (an unbounded interval, a rating that does not exist) as null: strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def leaderboard_json(lb: Leaderboard) -> dict:
    """The canonical JSON form: full-precision numbers (rounding is for display only); ±inf and nan as null,
    read with the row's ``unbounded`` ("above": lower bound only; "below": upper bound only)."""
    out = dataclasses.asdict(lb)
    out["rows"] = [dataclasses.asdict(r) for r in lb.rows]
    return _json_safe(out)


@dataclass(frozen=True)
class FlagEffect:
    """One model's rating from the counted votes and from every blind vote, flagged ones included.

    Publishing both shows what the honesty tests changed; ``flagged`` counts the model's flagged votes.
    A rating is nan where that view does not rate the model (no votes, or no finite rating).
    """

    model: str
    counted: float
    with_flagged: float
    flagged: int

    @property
    def shift(self) -> float:
        """How far the flagged votes would move the model: ``with_flagged − counted``."""
        return self.with_flagged - self.counted


def flag_effects(votes: Iterable[VoteRecord | CellCount], **options) -> list[FlagEffect]:
    """Each model's rating with and without the flagged votes, by :func:`compute_leaderboard` with ``options``
    (from votes, or from the store's counts).

    Battles whose answers revealed a model stay out of both views: they were never blind.
    """
    votes = list(votes)
    counted = _finite(compute_leaderboard(votes, **options))
    everything = _finite(compute_leaderboard([dataclasses.replace(v, flagged=False) for v in votes], **options))
    flagged = Counter()
    for v in votes:
        if v.flagged and not v.reveals_identity:
            flagged[v.model_a] += _votes(v)
            flagged[v.model_b] += _votes(v)
    models = sorted(set(counted) | set(everything) | set(flagged))
    return [FlagEffect(m, counted.get(m, math.nan), everything.get(m, math.nan), flagged[m]) for m in models]


def _finite(lb: Leaderboard) -> dict[str, float]:
    return {r.model: (r.rating if math.isfinite(r.rating) else math.nan) for r in lb.rows}
