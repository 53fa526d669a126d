"""Honest intervals where the votes are few: one-sided bounds, and a floor on thin intervals.

Two things make intervals falsely narrow on little data. A model with no finite rating
(it never lost, or never won: see ``support.py``) has nothing to centre an interval on;
it gets a one-sided *exact* bound instead: an unbeaten model's lower bound is the lowest
rating at which a record as good as its own (every one of its wins, against opponents at
their own lower bounds) still has a chance of at least ``(1 − level) / 2``. At 95%, one
win gives a bound about 640 points below the opponent's; three wins, 150 below; six, 30
above. It needs no prior and no ridge. And the sandwich and the bootstrap both read the
spread of the votes off the votes themselves, so a handful of them can claim near
certainty (a lone tie has no spread at all): a model with under :data:`THIN` effective
votes gets an interval at least as wide as the model-based one.
"""

from __future__ import annotations

import dataclasses
import math
from statistics import NormalDist

import numpy as np
from scipy.optimize import brentq

from .cells import Cells, flipped, subset
from .ratings import SCALE, Fit, Intervals, _evaluate, _frame_cov, _stats, fit
from .support import ABOVE, BELOW, Support

__all__ = ["THIN", "effective_votes", "widen_thin", "outside_bounds", "exact_lower"]

THIN = 40  # effective votes: below this a model's interval is at least the model-based (Wald) one


def effective_votes(cells: Cells) -> np.ndarray:
    """Per model, (sum of weights)² / sum of squared weights: the vote count, discounted for uneven weights."""
    n = cells.n_models
    w, q = cells.counts.sum(1), cells.sq_counts.sum(1)
    total = np.bincount(cells.i, w, n) + np.bincount(cells.j, w, n)
    square = np.bincount(cells.i, q, n) + np.bincount(cells.j, q, n)
    return np.divide(total * total, square, out=np.zeros(n), where=square > 0)


def widen_thin(ci: Intervals, cells: Cells, point: Fit) -> Intervals:
    """``ci`` with the intervals of thinly voted models widened to at least the model-based Wald ones.

    The model-based variance (inverse information: each vote a full win-or-lose draw) does not
    shrink when the few votes happen to agree, which is what the robust estimates do.
    """
    thin = effective_votes(cells) < THIN
    if not thin.any():
        return ci
    n = cells.n_models
    x = point.params
    info = _evaluate(_stats(cells.counts[None], point.ties), x[None], point.ties, cells, point.anchor,
                     point.alpha)[2][0]
    free = np.flatnonzero(np.arange(x.size) != point.anchor)
    cov = np.zeros((x.size, x.size))
    cov[np.ix_(free, free)] = np.linalg.pinv(info[np.ix_(free, free)])
    se = np.where(thin, np.maximum(ci.se, SCALE * np.sqrt(np.maximum(np.diag(_frame_cov(cov[:n, :n], ci.frame)), 0))),
                  ci.se)
    z = NormalDist().inv_cdf(0.5 + ci.level / 2)
    zj = NormalDist().inv_cdf(1.0 - (1.0 - ci.level) / (2 * max(int(np.count_nonzero(se > 0)), 1)))
    r = ci.rating
    return dataclasses.replace(
        ci, se=se, lower=np.where(thin, np.minimum(ci.lower, r - z * se), ci.lower),
        upper=np.where(thin, np.maximum(ci.upper, r + z * se), ci.upper),
        joint_lower=np.where(thin, np.minimum(ci.joint_lower, r - zj * se), ci.joint_lower),
        joint_upper=np.where(thin, np.maximum(ci.joint_upper, r + zj * se), ci.joint_upper))


def exact_lower(opponents: np.ndarray, wins: np.ndarray, tail: float) -> float:
    """The rating θ at which winning ``wins[k]`` votes against each opponent rated ``opponents[k]`` has
    probability ``tail``: Π σ((θ − r_k) / SCALE)^{w_k} = tail. Lower ratings make the record rarer."""
    a, w = np.asarray(opponents, float), np.asarray(wins, float)
    target = math.log(tail)

    def gap(t: float) -> float:
        return float(-(w * np.logaddexp(0.0, -(t - a) / SCALE)).sum()) - target

    return brentq(gap, a.min() - 80 * SCALE, a.max() + 80 * SCALE, xtol=1e-9)


def outside_bounds(cells: Cells, sup: Support, lower: np.ndarray, upper: np.ndarray,
                   tail: float) -> tuple[np.ndarray, np.ndarray]:
    """Intervals of every model given the reference group's: above it [exact bound, ∞), below it
    (−∞, exact bound], either side (−∞, ∞). The reference group's entries are returned unchanged."""
    side = np.array([s or "" for s in sup.side])
    ref = side == ""
    offset = _offsets(cells, sup)
    known = np.where(ref, lower, np.where(side == ABOVE, np.nan, -np.inf))
    lo = _fill_above(cells, sup.group, side == ABOVE, known, offset, tail)
    known = np.where(ref, -upper, np.where(side == BELOW, np.nan, -np.inf))
    hi = -_fill_above(flipped(cells), sup.group, side == BELOW, known, -offset, tail)
    return (np.where(ref, lower, np.where(side == ABOVE, lo, -np.inf)),
            np.where(ref, upper, np.where(side == BELOW, hi, np.inf)))


def _fill_above(cells: Cells, group: np.ndarray, above: np.ndarray, known: np.ndarray, offset: np.ndarray,
                tail: float) -> np.ndarray:
    """Lower bounds of the groups in ``above`` (``known`` is nan there), each once the groups it beat have theirs.

    A group's wins place its best member (by ``offset``, its rating inside the group); the
    others sit below it by their offsets. Beating a model with no lower bound tells nothing.
    """
    known = known.copy()
    pending = sorted({int(g) for g in group[above]})
    while pending:
        done = [g for g in pending if _bound_group(cells, group == g, known, offset, tail)]
        if not done:  # cannot happen for an "above" group, which beat some bounded one; stay honest anyway
            known[np.isnan(known)] = -np.inf
            break
        pending = [g for g in pending if g not in done]
    return known


def _bound_group(cells: Cells, members: np.ndarray, known: np.ndarray, offset: np.ndarray, tail: float) -> bool:
    """Set ``known`` for one group's members from its wins outside it; False while an opponent is pending."""
    as_i = members[cells.i] & ~members[cells.j] & (cells.wins_i > 0)
    as_j = members[cells.j] & ~members[cells.i] & (cells.wins_j > 0)
    winner = np.concatenate([cells.i[as_i], cells.j[as_j]])
    loser = np.concatenate([cells.j[as_i], cells.i[as_j]])
    if np.isnan(known[loser]).any():
        return False
    count = np.concatenate([cells.wins_i[as_i], cells.wins_j[as_j]])
    square = np.concatenate([cells.sq_counts[as_i, 0], cells.sq_counts[as_j, 1]])
    top = offset[members].max()
    against = known[loser] + (top - offset[winner])
    use = np.isfinite(against)
    best = exact_lower(against[use], count[use] ** 2 / square[use], tail) if use.any() else -np.inf
    known[members] = best - (top - offset[members])
    return True


def _offsets(cells: Cells, sup: Support) -> np.ndarray:
    """Each model's rating inside its own strong group (0 alone in one), the half-win MLE centred on the group."""
    offset = np.zeros(cells.n_models)
    for g in np.unique(sup.group):
        members = np.flatnonzero(sup.group == g)
        if members.size < 2 or sup.side[members[0]] is None:
            continue
        try:
            inner = fit(subset(cells, members)).rating
        except (ValueError, RuntimeError):  # a group is strongly connected, so this is a safeguard only
            continue
        offset[members] = inner - inner.mean()
    return offset
