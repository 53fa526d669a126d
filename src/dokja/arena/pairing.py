"""Which two models face each other next: pairs whose vote would most sharpen the ranking.

A pair's score is high when its two models' ratings are close relative to their uncertainty
(their order is in doubt), when that uncertainty is large, and when the pair has had few votes:

    score = exp(−Δ² / 2(s_i² + s_j²)) · sqrt(s_i² + s_j²) / sqrt(1 + n_ij)

Models without a rating yet (new ones, or ones with no finite rating or interval because they
never lost or never won) get the field's mean and a wide uncertainty, so they are shown often
until they settle. A floor share of the probability is spread evenly, so
every pair keeps a positive probability; each vote is then weighted by the inverse of its
pair's probability, which keeps the ratings unbiased under this non-uniform sampling.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from itertools import accumulate, combinations
from typing import Mapping

import numpy as np

from .errors import ArenaError

__all__ = ["NEW_MODEL_SD", "pair_probabilities", "draw_pair", "vote_weight"]

NEW_MODEL_SD = 200.0  # rating points: a model nobody has voted on yet
_Z95 = 1.959963984540054


def pair_probabilities(models: list[str], leaderboard=None, counts: Mapping[tuple[str, str], float] | None = None,
                       *, floor: float = 0.2) -> dict[tuple[str, str], float]:
    """Sampling probability of each unordered pair (keys sorted), positive and summing to 1.

    ``leaderboard`` is a :class:`~dokja.arena.leaderboard.Leaderboard` (or None at the start);
    ``counts`` the votes each pair has had, keyed by either order.
    """
    models = sorted(set(models))
    if len(models) < 2:
        raise ArenaError("the arena needs at least two models to draw a pair")
    if not 0 < floor <= 1:
        raise ArenaError("floor must be in (0, 1]")
    rows = {r.model: r for r in (leaderboard.rows if leaderboard is not None else [])}
    known = [r.rating for m, r in rows.items() if m in models and math.isfinite(r.rating)]
    centre = float(np.mean(known)) if known else 0.0
    rating, sd = {}, {}
    for m in models:
        r = rows.get(m)
        if r is None or not math.isfinite(r.rating) or not math.isfinite(r.upper - r.lower):
            rating[m], sd[m] = centre, NEW_MODEL_SD
        else:
            rating[m], sd[m] = r.rating, max((r.upper - r.lower) / (2 * _Z95), 1e-6)
    counts = counts or {}
    pairs = list(combinations(models, 2))
    score = np.empty(len(pairs))
    for k, (x, y) in enumerate(pairs):
        var = sd[x] ** 2 + sd[y] ** 2
        n = counts.get((x, y), 0) + counts.get((y, x), 0)
        score[k] = math.exp(-((rating[x] - rating[y]) ** 2) / (2 * var)) * math.sqrt(var) / math.sqrt(1 + n)
    spread = score / score.sum() if score.sum() > 0 else np.full(len(pairs), 1 / len(pairs))
    p = floor / len(pairs) + (1 - floor) * spread
    p /= p.sum()
    return {pair: float(q) for pair, q in zip(pairs, p)}


def draw_pair(probabilities: Mapping[tuple[str, str], float], rng: np.random.Generator) -> tuple[str, str, float]:
    """(model shown as A, model shown as B, the pair's probability); the sides are a fair coin."""
    pairs = sorted(probabilities)
    cumulative = list(accumulate(probabilities[q] for q in pairs))
    k = min(bisect_right(cumulative, rng.random() * cumulative[-1]), len(pairs) - 1)
    x, y = pairs[k]
    if rng.random() < 0.5:
        x, y = y, x
    return x, y, float(probabilities[pairs[k]])


def vote_weight(probability: float, n_pairs: int) -> float:
    """A vote's weight, 1 / (probability × pairs): 1 under uniform sampling."""
    if not (probability > 0 and n_pairs > 0):
        raise ArenaError("a pair's probability must be positive")
    return 1.0 / (probability * n_pairs)
