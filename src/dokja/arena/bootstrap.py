"""Bootstrap intervals by resampling the aggregated counts, all rounds refitted in batches.

Votes are never resampled one by one: each cell-outcome count is redrawn (Poisson with
the observed count as mean, which is the vote-level bootstrap; or multinomial within
each cell, which keeps the number of battles per pair fixed), and every round is
refitted by a few batched Newton steps started at the point estimate.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .cells import Cells
from .errors import ArenaError
from .ratings import (SCALE, Fit, Intervals, _check, _evaluate, _flat, _gradient, _gradient_at, _newton, _stats,
                      fit)

__all__ = ["bootstrap"]


def bootstrap(cells: Cells, rounds: int = 1000, seed: int = 0, ties: str = "half", point: Fit | None = None,
              level: float = 0.95, frame: str = "centred", resample: str = "poisson", anchor: int = 0,
              anchor_value: float = 1000.0, alpha: float = 0.0, batch: int = 100, workers: int = 1,
              tol: float = 1e-5, max_iter: int = 30) -> Intervals:
    """Percentile intervals from ``rounds`` refits on resampled cell counts.

    ``point`` (a :class:`Fit`) is reused when given, and then decides ``ties``, the anchor
    and ``alpha``. Joint intervals use the max-|t| over models (studentised by the
    bootstrap SD), which stays sharp where Bonferroni would need extreme quantiles.
    With vote weights, each count is redrawn as Poisson on its effective number of votes
    (sum w)² / sum w² and rescaled, which matches the mean and variance of resampling
    the weighted votes. Rounds are drawn from per-batch seeds, so results do not depend
    on ``workers``. Rounds without a finite MLE (a model that lost, or won, every vote it
    had in the resample) or that do not converge are dropped and counted in
    ``Intervals.dropped``; ``alpha > 0`` keeps them. Each round is solved until its
    estimated remaining error in θ is below ``tol`` (1e-5 is 0.002 rating points, far
    below the Monte Carlo error of the percentiles).
    """
    if not (isinstance(rounds, (int, np.integer)) and rounds >= 2):  # percentiles and SDs need two rounds
        raise ArenaError(f"bootstrap rounds must be at least 2, not {rounds!r}")
    if point is None:
        point = fit(cells, ties=ties, anchor=anchor, anchor_value=anchor_value, alpha=alpha)
    ties, anchor, alpha = point.ties, point.anchor, point.alpha
    _check(cells, ties, anchor, alpha)
    counts, sq = cells.counts, cells.sq_counts
    draw = _sampler(counts, sq, resample)
    sizes = [min(batch, rounds - s) for s in range(0, rounds, batch)]
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    x0 = point.params
    info = _evaluate(_stats(counts[None], ties), x0[None], ties, cells, anchor, alpha)[2][0]
    step_matrix = np.linalg.inv(info)
    step_matrix[anchor] = step_matrix[:, anchor] = 0.0

    at_risk = _at_risk(counts, cells) if alpha == 0 else np.zeros(0, int)

    def one(b: int):
        rng = np.random.Generator(np.random.SFC64(seeds[b]))
        resampled = draw(rng, sizes[b])
        finite = _has_mle(resampled, cells, at_risk)
        stats = _stats(resampled if finite.all() else resampled[finite], ties)
        x, ok = _chord(stats, x0, step_matrix, ties, cells, anchor, alpha, tol, max_iter)
        if not ok.all():  # slow or diverging rounds: exact damped Newton from the point estimate
            bad = np.flatnonzero(~ok)
            start = np.broadcast_to(x0, (bad.size, x0.size))
            x[bad], _, ok[bad] = _newton(tuple(s[bad] for s in stats), start, ties, cells, anchor, alpha, tol, 100)
        return x[ok]

    if workers > 1 and len(sizes) > 1:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(one, range(len(sizes))))
    else:
        parts = [one(b) for b in range(len(sizes))]
    xs = np.concatenate(parts)
    if len(xs) < 2:
        raise RuntimeError("fewer than two bootstrap rounds had a finite MLE; pass alpha > 0")
    return _percentile(point, xs, cells.n_models, level, frame, rounds - len(xs))


def _at_risk(counts: np.ndarray, cells: Cells) -> np.ndarray:
    """Models with under 40 (wins + ties) or (losses + ties): only these can lose every such vote in a
    resample with non-negligible probability (at most e^-40 otherwise)."""
    n = cells.n_models
    up = np.bincount(cells.i, counts[:, 0] + counts[:, 2], n) + np.bincount(cells.j, counts[:, 1] + counts[:, 2], n)
    down = np.bincount(cells.i, counts[:, 1] + counts[:, 2], n) + np.bincount(cells.j, counts[:, 0] + counts[:, 2], n)
    return np.flatnonzero(np.minimum(up, down) < 40)


def _has_mle(resampled: np.ndarray, cells: Cells, at_risk: np.ndarray) -> np.ndarray:
    """Rounds where no at-risk model has lost (or won) every vote it had: the others have no finite MLE."""
    ok = np.ones(resampled.shape[0], bool)
    for m in at_risk:
        as_i, as_j = cells.i == m, cells.j == m
        sub_i, sub_j = resampled[:, as_i], resampled[:, as_j]
        up = (sub_i[..., 0] + sub_i[..., 2]).sum(1) + (sub_j[..., 1] + sub_j[..., 2]).sum(1)
        down = (sub_i[..., 1] + sub_i[..., 2]).sum(1) + (sub_j[..., 0] + sub_j[..., 2]).sum(1)
        ok &= (up > 0) & (down > 0)
    return ok


def _chord(stats, x0, step_matrix, ties, cells, anchor, alpha, tol, max_iter):
    """Newton steps with the Hessian frozen at the point estimate: no factorisation per round.

    A resample moves the information matrix by O(1/sqrt(votes per cell)), so each step
    shrinks the error by a factor ρ of about that size. The first step, taken at the
    point estimate, is linear in the counts; later ones stop a round when its remaining
    error, estimated as ρ/(1−ρ) × step with ρ the ratio of its last two steps, is below
    ``tol``. Rounds not there after ``max_iter`` steps are returned as not ok.
    """
    r, n = stats[0].shape[0], cells.n_models
    flat = _flat(cells.i, n, r), _flat(cells.j, n, r)
    step = np.einsum("rk,kl->rl", _gradient_at(stats, x0, ties, cells, anchor, alpha, flat), step_matrix)
    x = x0[None, :] + step
    prev = np.abs(step).max(1)
    ok = prev == 0
    for _ in range(max_iter - 1):
        if ok.all():
            break
        step = np.einsum("rk,kl->rl", _gradient(stats, x, ties, cells, anchor, alpha, flat), step_matrix)
        x += step
        size = np.abs(step).max(1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = size / prev
            ok = (size < 1e-12) | ((rho < 0.5) & (rho / (1.0 - rho) * size < tol))  # or at rounding level
        prev = size
    return x, ok & np.isfinite(x).all(1)


def _sampler(counts: np.ndarray, sq: np.ndarray, resample: str):
    """A function (rng, rounds) -> resampled counts ``(rounds, cells, 3)``."""
    if resample == "poisson":
        pos = counts > 0
        lam = np.where(pos, counts * counts / np.where(pos, sq, 1.0), 0.0)  # effective votes
        unit = np.where(pos, counts / np.where(pos, lam, 1.0), 0.0)  # weight per effective vote
        weighted = not np.allclose(unit[pos], 1.0)

        def poisson(rng, r):
            drawn = rng.poisson(lam, size=(r, *lam.shape))
            return drawn * unit if weighted else drawn

        return poisson
    if resample == "multinomial":
        total = counts.sum(1)
        if not (np.allclose(sq, counts) and np.allclose(counts, np.round(counts))):
            raise ValueError("multinomial resampling needs unweighted (integer) counts; use 'poisson'")
        n, p = np.round(total).astype(np.int64), counts / total[:, None]
        return lambda rng, r: rng.multinomial(n, p, size=(r, len(n)))
    raise ValueError("resample must be 'poisson' or 'multinomial'")


def _percentile(point: Fit, xs: np.ndarray, n: int, level: float, frame: str, dropped: int) -> Intervals:
    theta = xs[:, :n]
    if frame == "centred":  # widths relative to the field; placed where the point estimate puts it
        theta = theta - theta.mean(1, keepdims=True) + point.theta.mean()
    elif frame != "anchored":
        raise ValueError("frame must be 'centred' or 'anchored'")
    samples = point.anchor_value + SCALE * theta
    r = point.rating
    lo, hi = np.quantile(samples, [0.5 - level / 2, 0.5 + level / 2], axis=0)
    se = samples.std(axis=0, ddof=1)
    live = se > 0
    t = np.abs(samples[:, live] - r[live]) / se[live]
    c = float(np.quantile(t.max(axis=1), level)) if live.any() else 0.0
    nu = nu_lo = nu_hi = None
    if point.nu is not None:
        nu = point.nu
        nu_lo, nu_hi = (float(v) for v in np.exp(np.quantile(xs[:, n], [0.5 - level / 2, 0.5 + level / 2])))
    return Intervals("bootstrap", point.ties, level, frame, r, se, lo, hi, r - c * se, r + c * se,
                     nu, nu_lo, nu_hi, samples, dropped)

