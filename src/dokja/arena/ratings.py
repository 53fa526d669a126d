"""Bradley–Terry ratings on cells, with ties two ways, sandwich intervals and ranks.

Parameters are natural-log strengths ``theta`` (P(i beats j) = σ(θ_i − θ_j) under the
half-win convention), identified by fixing an anchor model at θ = 0; ratings are
``anchor_value + SCALE · θ`` with ``SCALE = 400 / ln 10``, the Elo-like scale on which
published arena leaderboards report. Ties are handled two ways:

* ``"half"``: a tie is half a win for each side. It is the common convention and
  matches published leaderboards, but it is a pseudo-likelihood: when ties are
  frequent it pulls every rating towards the middle (by about ``2 / (2 + ν)`` near the
  centre, ν being Davidson's tie parameter), which is why the Davidson view exists.
* ``"davidson"``: Davidson (1970), P(i) ∝ π_i, P(j) ∝ π_j, P(tie) ∝ ν·sqrt(π_i π_j),
  with log ν fitted jointly with θ.

Both fits are Newton's method on per-cell sufficient statistics (a 100-model Hessian is
small), written for a batch of data sets at once: one for a point fit, many for the
bootstrap (see ``bootstrap.py``). Both-bad votes are ties unless ``aggregate`` drops them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .cells import Cells

__all__ = ["SCALE", "TIES", "CONVENTIONS", "Fit", "Intervals", "arena_ridge_alpha", "fit", "sandwich",
           "sandwich_cov", "ranks", "to_rating"]

SCALE = 400.0 / math.log(10.0)
TIES = ("half", "davidson")
CONVENTIONS = ("mle", "arena-ridge")


def arena_ridge_alpha(c: float = 1.0) -> float:
    """The ``alpha`` of :func:`fit` that reproduces the published arena notebook's ridge fit.

    Its ``compute_mle_elo`` fits sklearn's ``LogisticRegression(fit_intercept=False)`` (L2, ``C``)
    on a pivot-table design: each pair appears in both orders and a decisive vote counts as two
    wins, a tie as one each way, so its log-likelihood is 4 × the half-win one; and its features
    are ±ln 10, so its coefficients are β = θ / ln 10. Minimising ½‖β‖² − 4C·ℓ(θ) is maximising
    ℓ(θ) − ‖θ‖² / (8 C ln² 10): ``alpha = 1 / (4 C ln² 10)`` (≈ 0.047 for C = 1). The penalty is
    on θ itself, which puts the mean at 0 (rating 1000), as the centred penalty of :func:`fit` does.
    """
    return 1.0 / (4.0 * c * math.log(10.0) ** 2)


@dataclass(frozen=True)
class Fit:
    """A point estimate: raw ``theta`` (anchor at 0), ``rating`` on the Elo-like scale, ν for Davidson."""

    ties: str
    theta: np.ndarray
    rating: np.ndarray
    nu: float | None
    anchor: int
    anchor_value: float
    alpha: float
    loglik: float
    iterations: int

    @property
    def params(self) -> np.ndarray:
        """The vector the solver works on: θ, then log ν for Davidson."""
        return self.theta if self.nu is None else np.append(self.theta, math.log(self.nu))


@dataclass(frozen=True)
class Intervals:
    """Per-model intervals on the rating scale; ``joint_*`` hold simultaneously over all models.

    ``frame`` says what the widths are relative to: ``"centred"`` (the field's mean; no
    model is artificially certain) or ``"anchored"`` (the anchor, whose width is 0).
    ``samples`` (rating scale) and ``dropped`` (rounds left out) are set by the bootstrap.
    """

    method: str
    ties: str
    level: float
    frame: str
    rating: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    joint_lower: np.ndarray
    joint_upper: np.ndarray
    nu: float | None = None
    nu_lower: float | None = None
    nu_upper: float | None = None
    samples: np.ndarray | None = None
    dropped: int = 0


def to_rating(theta, anchor_value: float = 1000.0) -> np.ndarray:
    """Natural-log strengths (anchor at 0) to the Elo-like scale of published leaderboards."""
    return anchor_value + SCALE * np.asarray(theta)


def fit(cells: Cells, ties: str = "half", anchor: int = 0, anchor_value: float = 1000.0, alpha: float = 0.0,
        tol: float = 1e-10, max_iter: int = 100) -> Fit:
    """Maximum-likelihood Bradley–Terry strengths on cells by damped Newton.

    ``alpha`` adds a ridge penalty ``alpha/2 · Σ (θ − mean θ)²``: 0 gives the plain MLE,
    which is finite only if every model can be reached from every other along "won or
    tied" edges (checked; a ``ValueError`` says so); a small value keeps strengths finite
    when it is not.
    """
    _check(cells, ties, anchor, alpha)
    x0 = _start(cells, ties)[None, :]
    x, iters, ok = _newton(_stats(cells.counts[None], ties), x0, ties, cells, anchor, alpha, tol, max_iter)
    if not ok[0]:
        raise RuntimeError("Newton did not converge; try alpha > 0")
    x = x[0]
    theta = x[: cells.n_models]
    ll = float(_evaluate(_stats(cells.counts[None], ties), x[None], ties, cells, anchor, alpha)[0][0])
    nu = float(np.exp(x[-1])) if ties == "davidson" else None
    return Fit(ties, theta, to_rating(theta, anchor_value), nu, anchor, anchor_value, alpha, ll, int(iters[0]))


def sandwich_cov(cells: Cells, result: Fit) -> np.ndarray:
    """Robust covariance of ``result.params`` (anchored frame): A⁻¹ M A⁻¹, each vote one observation.

    A is the observed information of the (weighted) fit; the meat M sums, over cells and
    outcomes, (sum of squared vote weights) × s sᵀ, s being one vote's score. Under the
    half-win convention this is the right variance even though the tie rule is not a
    true likelihood; with inverse-probability weights it accounts for their dispersion.
    """
    n, ties = cells.n_models, result.ties
    x = result.params
    d = x[cells.i] - x[cells.j]
    if ties == "half":
        p = 1.0 / (1.0 + np.exp(-d))
        sd, sk = np.column_stack([1.0 - p, -p, 0.5 - p]), None
    else:
        pi, pj, pt = _davidson_probs(d, x[n])
        delta = pi - pj
        sd = np.column_stack([0.5 - delta / 2, -0.5 - delta / 2, -delta / 2])
        sk = np.column_stack([-pt, -pt, 1.0 - pt])
    q = cells.sq_counts
    meat = _assemble((q * sd * sd).sum(1)[None], cells, None if sk is None else (q * sd * sk).sum(1)[None],
                     None if sk is None else (q * sk * sk).sum(1)[None])[0]
    bread = _evaluate(_stats(cells.counts[None], ties), x[None], ties, cells, result.anchor, result.alpha)[2][0]
    free = np.flatnonzero(np.arange(x.size) != result.anchor)
    inv = np.linalg.inv(bread[np.ix_(free, free)])
    cov = np.zeros((x.size, x.size))
    cov[np.ix_(free, free)] = inv @ meat[np.ix_(free, free)] @ inv
    return cov


def sandwich(cells: Cells, result: Fit, level: float = 0.95, frame: str = "centred") -> Intervals:
    """Normal intervals from the sandwich covariance; joint ones Bonferroni-widened over models."""
    n = cells.n_models
    cov = sandwich_cov(cells, result)
    var = np.diag(_frame_cov(cov[:n, :n], frame))
    se = SCALE * np.sqrt(np.maximum(var, 0.0))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    m = max(int(np.count_nonzero(se > 0)), 1)
    zj = NormalDist().inv_cdf(1.0 - (1.0 - level) / (2 * m))
    r = result.rating
    nu_lo = nu_hi = None
    if result.nu is not None:
        sk = math.sqrt(cov[n, n])
        nu_lo, nu_hi = result.nu * math.exp(-z * sk), result.nu * math.exp(z * sk)
    return Intervals("sandwich", result.ties, level, frame, r, se, r - z * se, r + z * se, r - zj * se, r + zj * se,
                     result.nu, nu_lo, nu_hi)


def ranks(lower, upper) -> np.ndarray:
    """Rank = 1 + number of models surely better (their lower bound above this one's upper).

    Pass simultaneous bounds (``Intervals.joint_lower`` / ``joint_upper``) so that "surely"
    holds for the whole table at once; models whose intervals overlap share a rank.
    """
    lower, upper = np.asarray(lower), np.asarray(upper)
    return 1 + (lower[None, :] > upper[:, None]).sum(axis=1)


# ---------------------------------------------------------------- internals


def _check(cells: Cells, ties: str, anchor: int, alpha: float) -> None:
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}")
    if not 0 <= anchor < cells.n_models:
        raise ValueError("anchor must be a model index")
    seen = np.zeros(cells.n_models, bool)
    seen[cells.i] = seen[cells.j] = True
    if alpha == 0 and not seen.all():
        raise ValueError(f"models without votes: {np.flatnonzero(~seen).tolist()}")
    if ties == "davidson" and not cells.ties.sum() > 0:
        raise ValueError("the Davidson model needs at least one tie")
    if alpha == 0 and not _strongly_connected(cells):
        raise ValueError("no finite MLE: some models never lose (or never win) against the rest; "
                         "collect more votes or pass alpha > 0")


def _strongly_connected(cells: Cells) -> bool:
    """Whether the finite MLE exists: every model can be reached from every other along
    "did not always lose" edges (a win or a tie), the classical condition (Zermelo, Ford)."""
    n = cells.n_models
    edge = np.zeros((n, n), bool)
    edge[cells.i, cells.j] = (cells.wins_i + cells.ties) > 0
    edge[cells.j, cells.i] = (cells.wins_j + cells.ties) > 0
    for graph in (edge, edge.T):
        seen = np.zeros(n, bool)
        seen[0] = True
        frontier = seen.copy()
        while frontier.any():
            frontier = graph[frontier].any(0) & ~seen
            seen |= frontier
        if not seen.all():
            return False
    return True


def _frame_cov(cov: np.ndarray, frame: str) -> np.ndarray:
    if frame == "anchored":
        return cov
    if frame != "centred":
        raise ValueError("frame must be 'centred' or 'anchored'")
    c = np.eye(len(cov)) - 1.0 / len(cov)
    return c @ cov @ c


def _start(cells: Cells, ties: str) -> np.ndarray:
    """θ = 0; for Davidson, ν from the tie share at θ = 0 (P(tie) = ν / (2 + ν))."""
    x = np.zeros(cells.n_models + (ties == "davidson"))
    if ties == "davidson":
        tau = min(cells.ties.sum() / cells.total, 0.999)
        x[-1] = math.log(2 * tau / (1 - tau))
    return x


def _stats(counts: np.ndarray, ties: str) -> tuple[np.ndarray, ...]:
    """Per-cell sufficient statistics of counts ``(..., cells, 3)``: half (s_i, n); Davidson ((w_i−w_j)/2, t, n)."""
    w_i, w_j, t = counts[..., 0], counts[..., 1], counts[..., 2]
    n = (w_i + w_j + t).astype(np.float64, copy=False)
    if ties == "half":
        return (w_i + 0.5 * t, n)
    return (0.5 * (w_i - w_j), t.astype(np.float64), n)


def _davidson_probs(d, kappa):
    """(P(i wins), P(j wins), P(tie)) under Davidson, computed without overflow."""
    u = np.exp(-np.abs(d) / 2)
    nuu = np.exp(kappa) * u
    inv = 1.0 / (1.0 + u * u + nuu)
    big, small = inv, u * u * inv
    pos = d >= 0
    return np.where(pos, big, small), np.where(pos, small, big), nuu * inv


def _scatter(v: np.ndarray, idx: np.ndarray, n: int, flat: np.ndarray | None = None) -> np.ndarray:
    """Row-wise sums of ``v (R, cells)`` into models: out[r, m] = Σ_{c: idx[c] = m} v[r, c].

    ``flat`` may carry ``_flat(idx, n, R)`` precomputed, for repeated calls.
    """
    r = v.shape[0]
    flat = _flat(idx, n, r) if flat is None else flat
    return np.bincount(flat, weights=v.ravel(), minlength=r * n).reshape(r, n)


def _flat(idx: np.ndarray, n: int, r: int) -> np.ndarray:
    return (np.arange(r)[:, None] * n + idx[None, :]).ravel()


def _assemble(idd, cells: Cells, idk=None, ikk=None) -> np.ndarray:
    """Per-cell (d, log ν) blocks to a ``(R, k, k)`` matrix over (θ, log ν): Bᵀ diag B, B the ±1 incidence."""
    n, i, j = cells.n_models, cells.i, cells.j
    r, k = idd.shape[0], n + (idk is not None)
    out = np.zeros((r, k * k))
    out[:, i * k + j] = -idd
    out[:, j * k + i] = -idd
    diag = np.arange(n) * (k + 1)
    out[:, diag] = _scatter(idd, i, n) + _scatter(idd, j, n)
    if idk is not None:
        col = _scatter(idk, i, n) - _scatter(idk, j, n)
        out[:, np.arange(n) * k + n] = col
        out[:, n * k + np.arange(n)] = col
        out[:, -1] = ikk.sum(1)
    return out.reshape(r, k, k)


def _evaluate(stats, x: np.ndarray, ties: str, cells: Cells, anchor: int, alpha: float):
    """Log-likelihood ``(R,)``, gradient ``(R, k)`` and information ``(R, k, k)`` at ``x``."""
    n = cells.n_models
    theta = x[:, :n]
    d = theta[:, cells.i] - theta[:, cells.j]
    ad = np.abs(d)
    if ties == "half":
        s, tot = stats
        u = np.exp(-ad)
        pb = 1.0 / (1.0 + u)
        p = np.where(d >= 0, pb, u * pb)
        ll = (s * d - tot * (np.maximum(d, 0.0) + np.log1p(u))).sum(1)
        gd, idd, idk, ikk = s - tot * p, tot * u * pb * pb, None, None
    else:
        half_diff, t, tot = stats
        kappa = x[:, n:]
        u = np.exp(-ad / 2)
        u2 = u * u
        nuu = np.exp(kappa) * u
        dp = 1.0 + u2 + nuu
        inv = 1.0 / dp
        delta = np.sign(d) * (1.0 - u2) * inv  # P(i wins) − P(j wins)
        pt = nuu * inv
        ll = (half_diff * d + t * kappa - tot * (ad / 2 + np.log(dp))).sum(1)
        gd = half_diff - 0.5 * tot * delta
        idd = 0.25 * tot * ((1.0 + u2) * inv - delta * delta)
        idk = -0.5 * tot * delta * pt
        ikk = tot * pt * (1.0 - pt)
    g = np.zeros_like(x)
    g[:, :n] = _scatter(gd, cells.i, n) - _scatter(gd, cells.j, n)
    if idk is not None:
        g[:, n] = (t - tot * pt).sum(1)
    info = _assemble(idd, cells, idk, ikk)
    if alpha:
        c = theta - theta.mean(1, keepdims=True)
        ll = ll - 0.5 * alpha * (c * c).sum(1)
        g[:, :n] -= alpha * c
        info[:, :n, :n] += alpha * (np.eye(n) - 1.0 / n)
    g[:, anchor] = 0.0
    info[:, anchor, :] = 0.0
    info[:, :, anchor] = 0.0
    info[:, anchor, anchor] = 1.0
    return ll, g, info


def _gradient(stats, x: np.ndarray, ties: str, cells: Cells, anchor: int, alpha: float, flat=(None, None)):
    """The gradient of :func:`_evaluate` alone, with few passes over the ``(R, cells)`` arrays.

    ``flat`` optionally holds ``(_flat(cells.i, n, R), _flat(cells.j, n, R))``.
    """
    n = cells.n_models
    theta = x[:, :n]
    d = theta[:, cells.i]
    d -= theta[:, cells.j]
    g = np.zeros_like(x)
    with np.errstate(over="ignore"):
        if ties == "half":
            s, tot = stats
            np.negative(d, out=d)
            np.exp(d, out=d)
            d += 1.0
            np.divide(tot, d, out=d)  # n · P(i wins)
            gd = np.subtract(s, d, out=d)
        else:
            half_diff, t, tot = stats
            sign = np.sign(d)
            np.abs(d, out=d)
            d *= -0.5
            u = np.exp(d, out=d)
            nuu = u * np.exp(x[:, n:])
            u *= u  # u²
            inv = 1.0 + u + nuu
            np.divide(tot, inv, out=inv)  # n / D
            nuu *= inv  # n · P(tie)
            g[:, n] = t.sum(1) - nuu.sum(1)
            np.subtract(1.0, u, out=u)
            u *= inv
            u *= sign  # n · (P(i) − P(j))
            u *= -0.5
            gd = np.add(u, half_diff, out=u)
    g[:, :n] = _scatter(gd, cells.i, n, flat[0]) - _scatter(gd, cells.j, n, flat[1])
    if alpha:
        g[:, :n] -= alpha * (theta - theta.mean(1, keepdims=True))
    g[:, anchor] = 0.0
    return g


def _gradient_at(stats, x0: np.ndarray, ties: str, cells: Cells, anchor: int, alpha: float, flat=(None, None)):
    """The gradient for every row of ``stats`` at one shared point ``x0``: linear in the counts."""
    n = cells.n_models
    d = x0[cells.i] - x0[cells.j]
    g = np.zeros((stats[0].shape[0], x0.size))
    if ties == "half":
        s, tot = stats
        gd = s - tot * (1.0 / (1.0 + np.exp(-d)))
    else:
        half_diff, t, tot = stats
        pi, pj, pt = _davidson_probs(d, x0[n])
        gd = half_diff - tot * (0.5 * (pi - pj))
        g[:, n] = t.sum(1) - (tot * pt).sum(1)
    g[:, :n] = _scatter(gd, cells.i, n, flat[0]) - _scatter(gd, cells.j, n, flat[1])
    if alpha:
        g[:, :n] -= alpha * (x0[:n] - x0[:n].mean())
    g[:, anchor] = 0.0
    return g


def _solve(info: np.ndarray, g: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(info, g[..., None])[..., 0]
    except np.linalg.LinAlgError:  # a singular round (e.g. a model without votes in a resample)
        return np.stack([np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(info, g)])


def _newton(stats, x0: np.ndarray, ties: str, cells: Cells, anchor: int, alpha: float, tol: float, max_iter: int):
    """Damped Newton on a batch of R data sets (stats rows); returns x, iterations, converged.

    A round has converged once its full Newton step is below ``tol`` (its error is then
    of order step²). A step that lowers the log-likelihood is halved, round by round; a
    round whose step cannot be made to climb stops, not converged.
    """
    x = x0.copy()
    r = x.shape[0]
    iters, done = np.zeros(r, int), np.zeros(r, bool)
    act = np.arange(r)
    ll, g, info = _evaluate(stats, x, ties, cells, anchor, alpha)
    for _ in range(max_iter):
        if act.size == 0:
            break
        sub = stats if act.size == r else tuple(s[act] for s in stats)
        step = _solve(info, g)
        xs = x[act] + step
        ll_n, g_n, info_n = _evaluate(sub, xs, ties, cells, anchor, alpha)
        small = np.abs(step).max(1) < tol
        worse = ~small & ~(ll_n >= ll - 1e-12 * np.abs(ll))
        shrink = np.ones(act.size)
        for _halving in range(30):
            if not worse.any():
                break
            w = np.flatnonzero(worse)
            shrink[w] *= 0.5
            xs[w] = x[act[w]] + shrink[w, None] * step[w]
            ll_n[w], g_n[w], info_n[w] = _evaluate(tuple(s[w] for s in sub), xs[w], ties, cells, anchor, alpha)
            worse[w] = ~(ll_n[w] >= ll[w] - 1e-12 * np.abs(ll[w]))
        x[act] = np.where(worse[:, None], x[act], xs)
        iters[act] += 1
        done[act[small]] = True
        keep = ~small & ~worse  # converged, or stuck: either way this round stops
        act, ll, g, info = act[keep], ll_n[keep], g_n[keep], info_n[keep]
    return x, iters, done
