"""Votes to cells: one row per pair of models, with the outcome counts summed.

Every fit works on cells, never on raw vote rows: 10 million votes among 100 models
become at most 4,950 cells, so a likelihood evaluation costs the same whatever the
number of votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["A_WINS", "B_WINS", "TIE", "BOTH_BAD", "UNIT", "CellCount", "Cells", "aggregate", "fixed", "summed",
           "subset", "flipped"]

A_WINS, B_WINS, TIE, BOTH_BAD = 0, 1, 2, 3
UNIT = 1 << 32  # a weight of 1, in the units weights are summed in
_CHUNK = 1 << 20


def fixed(weight: float) -> int:
    """A vote's weight as a whole number of units of 2⁻³²: sums of these are exact, so votes summed in any
    order, by the database as they arrive or here from an export, give the same cells to the bit."""
    return round(weight * UNIT)


@dataclass(frozen=True)
class CellCount:
    """Votes alike, summed: one ordered pair and outcome, in one view (category, language) and standing
    (flagged, revealing a model). ``n`` counts them; ``w`` and ``w2`` sum their weights and squared weights
    in units of 2⁻³² (:func:`fixed`). The store keeps these as votes arrive; a leaderboard computed from
    them equals the one computed from the votes themselves."""

    model_a: str
    model_b: str
    outcome: str
    category: str = "general"
    language: str = "other"
    flagged: bool = False
    reveals_identity: bool = False
    n: int = 1
    w: int = UNIT
    w2: int = UNIT


@dataclass(frozen=True)
class Cells:
    """Outcome counts per pair ``i < j``; weighted votes contribute their weight.

    ``sq`` holds, per cell and outcome (columns: i wins, j wins, tie), the sum of the
    squared vote weights. It equals the counts when votes are unweighted; the robust
    (sandwich) variance and the bootstrap need it, because a vote of weight 3 is one
    observation, not three.
    """

    n_models: int
    i: np.ndarray
    j: np.ndarray
    wins_i: np.ndarray
    wins_j: np.ndarray
    ties: np.ndarray
    sq: np.ndarray | None = None
    both_bad: str = "tie"

    @property
    def counts(self) -> np.ndarray:
        """Counts as a ``(cells, 3)`` array: i wins, j wins, tie."""
        return np.column_stack([self.wins_i, self.wins_j, self.ties])

    @property
    def sq_counts(self) -> np.ndarray:
        """Sums of squared weights, shaped like :attr:`counts`."""
        return self.counts if self.sq is None else self.sq

    @property
    def total(self) -> float:
        return float(self.wins_i.sum() + self.wins_j.sum() + self.ties.sum())


def aggregate(a, b, outcome, weight=None, n_models: int | None = None, both_bad: str = "tie") -> Cells:
    """Sum votes into cells with one ``np.bincount`` over a (a, b, outcome) code.

    ``a`` and ``b`` are model indices, ``outcome`` is 0 (a wins), 1 (b wins), 2 (tie)
    or 3 (both bad). Both-bad votes count as ties by default (``both_bad="tie"``): the
    voter saw no difference between the two, which is what a tie records; pass
    ``both_bad="drop"`` to leave them out. ``weight`` is an optional per-vote weight,
    typically the inverse of the pair's sampling probability.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    outcome = np.asarray(outcome)
    if not (a.ndim == b.ndim == outcome.ndim == 1 and a.shape == b.shape == outcome.shape):
        raise ValueError("a, b and outcome must be 1-D arrays of the same length")
    if both_bad not in ("tie", "drop"):
        raise ValueError("both_bad must be 'tie' or 'drop'")
    if a.size and (outcome.min() < 0 or outcome.max() > 3):
        raise ValueError("outcome must be 0 (a wins), 1 (b wins), 2 (tie) or 3 (both bad)")
    top = int(max(a.max(), b.max())) + 1 if a.size else 0
    n = top if n_models is None else int(n_models)
    if a.size and (min(a.min(), b.min()) < 0 or top > n):
        raise ValueError(f"model indices must lie in [0, {n})")
    if weight is not None:
        weight = np.asarray(weight, dtype=np.float64)
        if weight.shape != a.shape:
            raise ValueError("weight must have the same length as the votes")
        if not np.all(np.isfinite(weight) & (weight >= 0)):
            raise ValueError("weights must be finite and non-negative")

    size = 4 * n * n
    by_code = np.zeros(size)
    sq = None if weight is None else np.zeros(size)
    for start in range(0, a.size, _CHUNK):  # chunks keep the temporaries small and in cache
        part = slice(start, start + _CHUNK)
        code = a[part].astype(np.int64) * (4 * n)
        code += b[part] * 4
        code += outcome[part]
        w = None if weight is None else weight[part]
        by_code += np.bincount(code, weights=w, minlength=size)
        if sq is not None:
            sq += np.bincount(code, weights=w * w, minlength=size)

    return _folded(by_code, sq, n, both_bad)


def summed(a, b, outcome, total, sq=None, n_models: int | None = None, both_bad: str = "tie") -> Cells:
    """Cells from rows that each sum votes alike (the store's counts): ``total`` per row is their count or
    summed weight, ``sq`` their summed squared weight (None when unweighted). Codes as in :func:`aggregate`."""
    a, b, outcome = (np.asarray(x, dtype=np.int64) for x in (a, b, outcome))
    n = int(max(a.max(), b.max())) + 1 if n_models is None else int(n_models)
    size = 4 * n * n
    code = a * (4 * n) + b * 4 + outcome
    by_code = np.bincount(code, weights=np.asarray(total, np.float64), minlength=size)
    sq_code = None if sq is None else np.bincount(code, weights=np.asarray(sq, np.float64), minlength=size)
    return _folded(by_code, sq_code, n, both_bad)


def _folded(by_code: np.ndarray, sq: np.ndarray | None, n: int, both_bad: str) -> Cells:
    """Cells from sums per (a, b, outcome) code, leaving out pairs without votes."""
    i, j = np.triu_indices(n, 1)
    folded = _fold(by_code.reshape(n, n, 4), i, j, both_bad)
    if np.any(by_code.reshape(n, n, 4)[np.arange(n), np.arange(n)]):
        raise ValueError("a vote compares a model with itself (a == b)")
    keep = folded.sum(axis=1) > 0
    sq_folded = None if sq is None else _fold(sq.reshape(n, n, 4), i, j, both_bad)[keep]
    kept = folded[keep]
    return Cells(n, i[keep], j[keep], kept[:, 0].copy(), kept[:, 1].copy(), kept[:, 2].copy(), sq_folded, both_bad)


def _fold(by_ab: np.ndarray, i: np.ndarray, j: np.ndarray, both_bad: str) -> np.ndarray:
    """Ordered (a, b, outcome) sums to unordered pairs: ``(cells, 3)`` of i wins, j wins, tie."""
    fwd, rev = by_ab[i, j], by_ab[j, i]
    ties = fwd[:, TIE] + rev[:, TIE]
    if both_bad == "tie":
        ties = ties + fwd[:, BOTH_BAD] + rev[:, BOTH_BAD]
    return np.column_stack([fwd[:, A_WINS] + rev[:, B_WINS], fwd[:, B_WINS] + rev[:, A_WINS], ties])


def subset(cells: Cells, models) -> Cells:
    """The cells among ``models`` only (indices into ``cells``), renumbered 0.. in the given order."""
    models = np.asarray(models)
    if models.size == cells.n_models and np.array_equal(models, np.arange(cells.n_models)):
        return cells
    where = np.full(cells.n_models, -1)
    where[models] = np.arange(models.size)
    keep = (where[cells.i] >= 0) & (where[cells.j] >= 0)
    i, j = where[cells.i[keep]], where[cells.j[keep]]
    swap = i > j  # a new order may put j before i: keep i < j, and swap the outcome columns with them
    counts = cells.counts[keep]
    counts[swap] = counts[swap][:, [1, 0, 2]]
    sq = None if cells.sq is None else cells.sq[keep]
    if sq is not None:
        sq[swap] = sq[swap][:, [1, 0, 2]]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return Cells(int(models.size), lo, hi, counts[:, 0].copy(), counts[:, 1].copy(), counts[:, 2].copy(), sq,
                 cells.both_bad)


def flipped(cells: Cells) -> Cells:
    """Every win turned into a loss: the mirror image, where "never lost" and "never won" trade places."""
    sq = None if cells.sq is None else cells.sq[:, [1, 0, 2]]
    return Cells(cells.n_models, cells.i, cells.j, cells.wins_j, cells.wins_i, cells.ties, sq, cells.both_bad)
