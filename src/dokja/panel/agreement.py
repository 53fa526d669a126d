"""How far reviewers agree, per criterion: Krippendorff's alpha at the interval level over the reviewers ×
teams matrix (NaN where a reviewer did not score a team), with a seeded bootstrap over teams."""

from __future__ import annotations

import krippendorff
import numpy as np

from .records import Agreement


def alpha(matrix: np.ndarray) -> tuple[float | None, str]:
    """Alpha, or None with the reason it is undefined (too few teams scored twice, or no variance)."""
    matrix = np.asarray(matrix, dtype=float)
    pairable = matrix[:, np.sum(~np.isnan(matrix), axis=0) >= 2] if matrix.size else matrix
    if pairable.ndim != 2 or pairable.shape[1] < 2:
        return None, "fewer than two teams scored by two or more reviewers"
    values = pairable[~np.isnan(pairable)]
    if np.all(values == values[0]):
        return None, "no variance: every score is the same"
    value = float(krippendorff.alpha(reliability_data=pairable, level_of_measurement="interval"))
    return (value, "") if np.isfinite(value) else (None, "alpha is undefined for these scores")


def bootstrap(matrix: np.ndarray, rounds: int, seed: int, label: str) -> tuple[float | None, float | None]:
    """A 95% percentile interval of alpha over teams resampled with replacement; replicates where alpha is
    undefined are left out. Seeded by the seed and the criterion id, so each criterion's draw is stable."""
    matrix = np.asarray(matrix, dtype=float)
    if rounds < 2 or matrix.ndim != 2 or matrix.shape[1] < 2:
        return None, None
    rng = np.random.default_rng([seed, *label.encode("utf-8")])
    n = matrix.shape[1]
    draws = [a for _ in range(rounds) if (a := alpha(matrix[:, rng.integers(0, n, n)])[0]) is not None]
    if len(draws) < 2:
        return None, None
    low, high = np.percentile(draws, [2.5, 97.5])
    return float(low), float(high)


def agreement(criterion: str, matrix: np.ndarray, *, min_alpha: float, rounds: int, seed: int) -> Agreement:
    """Tentative where alpha is below `min_alpha`, or undefined (then `note` says why)."""
    value, note = alpha(matrix)
    low, high = bootstrap(matrix, rounds, seed, criterion) if value is not None else (None, None)
    if value is not None and value < min_alpha:
        note = f"alpha {value:.3f} is below min_alpha {min_alpha:g}"
    return Agreement(criterion=criterion, alpha=value, low=low, high=high,
                     tentative=value is None or value < min_alpha, note=note)
