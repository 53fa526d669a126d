"""Style control: ratings with answer length and markdown as covariates.

Voters prefer longer, more formatted answers whatever their substance. The style-controlled
view fits Bradley–Terry with two extra columns per vote, the normalised differences
(x_a − x_b) / (x_a + x_b) of length and of markdown element counts, so a model's rating
is what it would earn against an opponent answering in the same style. Ties count as half
a win (the half convention of ``ratings.py``). Unlike the plain fit, covariates differ per
vote, so this fit works on vote rows; it is meant for the site's vote counts, not for the
10-million-vote benchmark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .ratings import SCALE, Fit, Intervals, _frame_cov
from .bootstrap import _percentile

__all__ = ["COVARIATES", "StyleFit", "style_covariates", "style_features", "style_fit", "style_intervals"]

COVARIATES = ("length", "markdown")

_HEADER = re.compile(r"^\s{0,3}#{1,6}\s+\S", re.M)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+\S", re.M)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)", re.M)


def style_features(answer: str) -> tuple[int, int]:
    """(length in characters, markdown elements): headers, list items, bold spans and fenced code blocks."""
    fences = len(_FENCE.findall(answer)) // 2
    outside = _strip_code(answer)
    md = len(_HEADER.findall(outside)) + len(_LIST_ITEM.findall(outside)) + len(_BOLD.findall(outside)) + fences
    return len(answer), md


def _strip_code(text: str) -> str:
    """The text without fenced code, whose ``#`` and ``*`` are code, not markdown."""
    out, inside = [], False
    for line in text.splitlines():
        if _FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            out.append(line)
    return "\n".join(out)


def style_covariates(len_a, len_b, md_a, md_b) -> np.ndarray:
    """Per-vote covariates ``(votes, 2)``: normalised differences of length and of markdown count (0 when both 0)."""
    cols = []
    for a, b in ((len_a, len_b), (md_a, md_b)):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        tot = a + b
        cols.append(np.divide(a - b, tot, out=np.zeros_like(tot), where=tot > 0))
    return np.column_stack(cols)


@dataclass(frozen=True)
class StyleFit:
    """θ per model (anchor at 0), β per covariate (log-odds per unit of normalised difference)."""

    fit: Fit
    beta: np.ndarray
    cov: np.ndarray  # robust covariance of (θ, β), anchored frame


def _design_products(a, b, z, h, n):
    """Xᵀ diag(h) X for the design X = [e_a − e_b, z], assembled without forming X."""
    k = z.shape[1]
    m = np.zeros((n + k, n + k))
    diag = np.bincount(a, h, n) + np.bincount(b, h, n)
    off = np.zeros((n, n))
    np.add.at(off, (a, b), h)
    off = off + off.T
    m[:n, :n] = np.diag(diag) - off
    hz = h[:, None] * z
    for c in range(k):
        col = np.bincount(a, hz[:, c], n) - np.bincount(b, hz[:, c], n)
        m[:n, n + c] = m[n + c, :n] = col
    m[n:, n:] = z.T @ hz
    return m


def _loglik(eta, y, w):
    return float((w * (y * eta - np.logaddexp(0.0, eta))).sum())


def _newton(a, b, y, w, z, n, anchor, x0, tol=1e-10, max_iter=100):
    x = x0.copy()
    k = z.shape[1]
    free = np.flatnonzero(np.arange(n + k) != anchor)

    def eta_of(v):
        return v[a] - v[b] + z @ v[n:]

    eta = eta_of(x)
    ll = _loglik(eta, y, w)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-eta))
        r = w * (y - p)
        g = np.concatenate([np.bincount(a, r, n) - np.bincount(b, r, n), z.T @ r])
        info = _design_products(a, b, z, w * p * (1.0 - p), n)
        step = np.zeros_like(x)
        step[free] = np.linalg.solve(info[np.ix_(free, free)], g[free])
        t = 1.0
        for _halving in range(40):
            xn = x + t * step
            eta_n = eta_of(xn)
            ll_n = _loglik(eta_n, y, w)
            if ll_n >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
        x, eta, ll = xn, eta_n, ll_n
        if np.abs(t * step).max() < tol:
            return x, ll, True
    return x, ll, False


def style_fit(a, b, y, w, z, n: int, anchor: int = 0, anchor_value: float = 1000.0) -> StyleFit:
    """Maximum (pseudo-)likelihood θ and β: P(a beats b) = σ(θ_a − θ_b + zᵀβ), a tie as half a win.

    ``a``, ``b`` are model indices, ``y`` is 1 (a wins), 0 (b wins) or 0.5 (tie), ``w`` the
    vote weights and ``z`` the covariates from :func:`style_covariates`.
    """
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    y, w, z = np.asarray(y, float), np.asarray(w, float), np.asarray(z, float)
    x, ll, ok = _newton(a, b, y, w, z, n, anchor, np.zeros(n + z.shape[1]))
    if not ok or not np.isfinite(x).all():
        raise ValueError("the style-controlled fit did not converge")
    theta, beta = x[:n], x[n:]
    p = 1.0 / (1.0 + np.exp(-(x[a] - x[b] + z @ beta)))
    bread = _design_products(a, b, z, w * p * (1.0 - p), n)
    meat = _design_products(a, b, z, (w * (y - p)) ** 2, n)
    free = np.flatnonzero(np.arange(x.size) != anchor)
    inv = np.linalg.inv(bread[np.ix_(free, free)])
    cov = np.zeros((x.size, x.size))
    cov[np.ix_(free, free)] = inv @ meat[np.ix_(free, free)] @ inv
    point = Fit("half", theta, anchor_value + SCALE * theta, None, anchor, anchor_value, 0.0, ll, 0)
    return StyleFit(point, beta, cov)


def style_intervals(sf: StyleFit, a, b, y, w, z, *, method: str = "sandwich", level: float = 0.95,
                    rounds: int = 1000, seed: int = 0) -> Intervals:
    """Sandwich intervals from the robust covariance, or bootstrap by Poisson(1) reweighting of the votes."""
    from statistics import NormalDist

    n = sf.fit.theta.size
    r = sf.fit.rating
    if method == "sandwich":
        var = np.diag(_frame_cov(sf.cov[:n, :n], "centred"))
        se = SCALE * np.sqrt(np.maximum(var, 0.0))
        zq = NormalDist().inv_cdf(0.5 + level / 2)
        m = max(int(np.count_nonzero(se > 0)), 1)
        zj = NormalDist().inv_cdf(1.0 - (1.0 - level) / (2 * m))
        return Intervals("sandwich", "half", level, "centred", r, se, r - zq * se, r + zq * se, r - zj * se,
                         r + zj * se)
    if method != "bootstrap":
        raise ValueError("method must be 'sandwich' or 'bootstrap'")
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    y, w, z = np.asarray(y, float), np.asarray(w, float), np.asarray(z, float)
    rng = np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed)))
    x0 = np.concatenate([sf.fit.theta, sf.beta])
    xs, dropped = [], 0
    for _ in range(rounds):
        wr = w * rng.poisson(1.0, w.size)
        try:
            x, _, ok = _newton(a, b, y, wr, z, n, sf.fit.anchor, x0, tol=1e-6, max_iter=30)
        except np.linalg.LinAlgError:
            ok = False
        if ok and np.isfinite(x).all() and np.abs(x[:n]).max() < 50:
            xs.append(x)
        else:
            dropped += 1
    if len(xs) < 2:
        raise ValueError("fewer than two bootstrap rounds of the style-controlled fit converged")
    return _percentile(sf.fit, np.array(xs), n, level, "centred", dropped)
