"""What the votes can pin down: connected parts, and which models have a finite rating.

Bradley–Terry compares models only through chains of votes, so two parts of the vote
graph that never met share no scale: any gap between them is made up. Inside a part, a
model that never lost (or never won) has no finite maximum-likelihood rating, since every
step further out fits better. In general the finite ratings live in *strong groups*:
sets where each model reaches every other along "won or tied against" edges (Zermelo's
condition). Within a group ratings are finite; between two groups where one only ever
beat the other the gap is infinite. The leaderboard rates one reference group (the
anchor's, else the largest) and says of every other model whether it lies above it,
below it, or, when neither reaches the other, could lie on either side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from .cells import Cells

__all__ = ["ABOVE", "BELOW", "EITHER", "Support", "parts", "support"]

ABOVE, BELOW, EITHER = "above", "below", "both"


@dataclass(frozen=True)
class Support:
    """Per model: its strong ``group`` label and its ``side`` of the reference group (None: in it)."""

    group: np.ndarray
    side: tuple[str | None, ...]
    reference: np.ndarray

    @property
    def bounded(self) -> bool:
        """Whether every model has a finite rating."""
        return all(s is None for s in self.side)


def parts(cells: Cells) -> list[np.ndarray]:
    """Connected parts of the graph of pairs with a vote, as model indices: largest first, then by first model."""
    n = cells.n_models
    graph = csr_matrix((np.ones(cells.i.size), (cells.i, cells.j)), shape=(n, n))
    k, label = connected_components(graph, directed=False)
    found = [np.flatnonzero(label == c) for c in range(k)]
    return sorted(found, key=lambda g: (-g.size, int(g[0])))


def support(cells: Cells, anchor: int | None = None) -> Support:
    """Strong groups, the reference group (``anchor``'s, else the largest) and each model's side of it.

    Expects one connected part (see :func:`parts`).
    """
    graph = _beat_or_tied(cells)
    _, group = connected_components(graph, directed=True, connection="strong")
    ref_label = int(group[anchor]) if anchor is not None else _largest(group, cells)
    reference = np.flatnonzero(group == ref_label)
    start = int(reference[0])
    reaches = _mask(breadth_first_order(graph.T.tocsr(), start, directed=True, return_predecessors=False), group)
    reached = _mask(breadth_first_order(graph, start, directed=True, return_predecessors=False), group)
    side = tuple(None if group[m] == ref_label else ABOVE if reaches[m] else BELOW if reached[m] else EITHER
                 for m in range(cells.n_models))
    return Support(group, side, reference)


def _beat_or_tied(cells: Cells) -> csr_matrix:
    """Edge i → j when i won or tied at least one vote against j."""
    up = (cells.wins_i + cells.ties) > 0
    down = (cells.wins_j + cells.ties) > 0
    src = np.concatenate([cells.i[up], cells.j[down]])
    dst = np.concatenate([cells.j[up], cells.i[down]])
    n = cells.n_models
    return csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))


def _mask(found: np.ndarray, group: np.ndarray) -> np.ndarray:
    out = np.zeros(group.size, bool)
    out[found] = True
    return out


def _largest(group: np.ndarray, cells: Cells) -> int:
    """The group with most models; ties go to most votes inside it, then most votes touching it, then first model."""
    total = cells.counts.sum(1)
    inside = np.bincount(group[cells.i], total * (group[cells.i] == group[cells.j]), minlength=group.max() + 1)
    touching = np.bincount(group[cells.i], total, group.max() + 1) + np.bincount(group[cells.j], total,
                                                                                 group.max() + 1)
    size = np.bincount(group)
    first = np.array([np.flatnonzero(group == g)[0] for g in range(size.size)])
    return int(min(range(size.size), key=lambda g: (-size[g], -inside[g], -touching[g], first[g])))
