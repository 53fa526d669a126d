"""Statistics over per-item results: standard errors, bootstrap intervals, paired model comparison.

Pure functions over sequences of per-item floats (numpy arrays or lists), e.g. one model's ``acc``
values on a suite. Randomised functions take a ``seed`` and are deterministic for a given seed.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _sp

# Resampling works on the distinct values (or paired differences) and their counts, drawing each
# round as a multinomial over them: for 0/1 data that is a handful of categories, whatever n is.
# Rounds are drawn in chunks so that one chunk holds at most this many numbers.
_CHUNK = 4_000_000


def _vector(values, name: str = "values") -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    x, y = _vector(a, "a"), _vector(b, "b")
    if len(x) != len(y):
        raise ValueError(f"paired inputs differ in length: {len(x)} != {len(y)}")
    if len(x) == 0:
        raise ValueError("paired inputs are empty")
    return x, y


def _is_binary(arr: np.ndarray) -> bool:
    return bool(np.all((arr == 0.0) | (arr == 1.0)))


def _resampled_means(arr: np.ndarray, rounds: int, seed: int) -> np.ndarray:
    """Means of ``rounds`` bootstrap resamples (n draws with replacement) of ``arr``."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    n = len(arr)
    rng = np.random.default_rng(seed)
    uniq, counts = np.unique(arr, return_counts=True)
    if len(uniq) == 1:
        return np.full(rounds, uniq[0])
    pvals = counts / n
    per_chunk = max(1, _CHUNK // len(uniq))
    out = np.empty(rounds)
    for start in range(0, rounds, per_chunk):  # chunks of rounds, not one iteration per round
        stop = min(rounds, start + per_chunk)
        draws = rng.multinomial(n, pvals, size=stop - start)
        out[start:stop] = draws @ uniq / n
    return out


def stderr_closed(values) -> float:
    """Standard error of the mean: sample standard deviation (ddof=1) over sqrt(n).

    This is lm-evaluation-harness's convention (and ``scoring.mean_and_stderr``'s). For 0/1 data
    with proportion p it equals sqrt(p(1-p)/(n-1)), slightly larger than the textbook
    sqrt(p(1-p)/n). NaN when there are fewer than two values.
    """
    arr = _vector(values)
    if len(arr) < 2:
        return float("nan")
    return float(np.std(arr, ddof=1) / math.sqrt(len(arr)))


def stderr_bootstrap(values, rounds: int = 1000, seed: int = 0) -> float:
    """Bootstrap standard error of the mean: sample sd (ddof=1) of ``rounds`` resampled means.

    NaN when there are fewer than two values.
    """
    arr = _vector(values)
    if len(arr) < 2:
        return float("nan")
    return float(np.std(_resampled_means(arr, rounds, seed), ddof=1))


def ci_bootstrap(values, level: float = 0.95, rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap confidence interval (low, high) for the mean at ``level``.

    (nan, nan) for empty input.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    arr = _vector(values)
    if len(arr) == 0:
        return float("nan"), float("nan")
    means = _resampled_means(arr, rounds, seed)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def paired_bootstrap(a, b, rounds: int = 10000, seed: int = 0, level: float = 0.95) -> dict:
    """Paired bootstrap of the mean difference ``mean(a) - mean(b)`` over the same items.

    Items are resampled together (the statistic is the mean of per-item differences). Returns
    ``n, mean_a, mean_b, diff, stderr, ci_low, ci_high, p_value, rounds``. The two-sided p-value is
    the share of resampled differences on the other side of zero from ``diff`` (zero counts as the
    other side), doubled and bounded to [1/rounds, 1]; it is 1 when ``diff`` is exactly 0.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x, y = _pair(a, b)
    d = x - y
    diff = float(d.mean())
    means = _resampled_means(d, rounds, seed)
    if diff > 0:
        share = float(np.mean(means <= 0))
    elif diff < 0:
        share = float(np.mean(means >= 0))
    else:
        share = 0.5
    p_value = min(1.0, max(1.0 / rounds, 2.0 * share))
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return {
        "n": len(d),
        "mean_a": float(x.mean()),
        "mean_b": float(y.mean()),
        "diff": diff,
        "stderr": float(np.std(means, ddof=1)) if rounds > 1 else float("nan"),
        "ci_low": float(low),
        "ci_high": float(high),
        "p_value": p_value,
        "rounds": rounds,
    }


def mcnemar(a, b) -> dict:
    """McNemar's test for paired 0/1 outcomes of two models on the same items.

    ``b01``: items ``a`` got wrong and ``b`` got right; ``b10``: ``a`` right, ``b`` wrong. Returns
    ``n, mean_a, mean_b, diff, b01, b10, p_value`` (exact two-sided binomial test of b10 out of
    b01+b10 at 1/2), ``statistic`` (chi-square with continuity correction,
    max(|b01-b10|-1, 0)^2/(b01+b10)) and ``p_value_chi2`` (its 1-df tail). With no discordant
    pairs the statistic is 0 and both p-values are 1.
    """
    x, y = _pair(a, b)
    if not (_is_binary(x) and _is_binary(y)):
        raise ValueError("mcnemar needs 0/1 outcomes")
    b01 = int(np.sum((x == 0) & (y == 1)))
    b10 = int(np.sum((x == 1) & (y == 0)))
    discordant = b01 + b10
    if discordant == 0:
        p_exact, statistic, p_chi2 = 1.0, 0.0, 1.0
    else:
        p_exact = float(min(1.0, _sp.binomtest(b10, discordant, 0.5).pvalue))
        statistic = max(abs(b01 - b10) - 1, 0) ** 2 / discordant
        p_chi2 = float(_sp.chi2.sf(statistic, 1))
    return {
        "n": len(x),
        "mean_a": float(x.mean()),
        "mean_b": float(y.mean()),
        "diff": float(x.mean() - y.mean()),
        "b01": b01,
        "b10": b10,
        "p_value": p_exact,
        "statistic": float(statistic),
        "p_value_chi2": p_chi2,
    }


def compare(a, b, alpha: float = 0.05, rounds: int = 10000, seed: int = 0) -> dict:
    """Is the gap between two models on the same items real?

    Uses McNemar's exact test when every value of both is 0 or 1, the paired bootstrap otherwise.
    Returns that test's dict plus ``method`` ("mcnemar" or "paired_bootstrap"), ``alpha`` and
    ``significant`` (``p_value < alpha``).
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    x, y = _pair(a, b)
    if _is_binary(x) and _is_binary(y):
        result, method = mcnemar(x, y), "mcnemar"
    else:
        result, method = paired_bootstrap(x, y, rounds=rounds, seed=seed, level=1.0 - alpha), "paired_bootstrap"
    result.update(method=method, alpha=alpha, significant=bool(result["p_value"] < alpha))
    return result
