"""Reviewer severity, pure: score = team effect + reviewer offset, fitted by least squares over the graph
of who scored whom, the offsets summing to zero within each connected part of that graph.

Within a connected part only differences are identified (a harsher panel and a better team look alike), so
the constraint fixes the level: offsets are measured from the part's average reviewer. Teams in different
parts share no reviewer, and their corrections are not compared with each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def parts(pairs: Sequence[tuple[str, str]]) -> list[set[str]]:
    """The reviewers of each connected part of the reviewer–team graph."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for reviewer, team in pairs:
        parent[root(("r", reviewer))] = root(("t", team))
    groups: dict = {}
    for node in list(parent):
        if node[0] == "r":
            groups.setdefault(root(node), set()).add(node[1])
    return sorted(groups.values(), key=sorted)


def fit(cells: Sequence[tuple[str, str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """(team effects, reviewer offsets) from (reviewer, team, score) cells; a team's effect is its
    severity-corrected mean."""
    reviewers = sorted({r for r, _, _ in cells})
    teams = sorted({t for _, t, _ in cells})
    if not cells:
        return {}, {}
    col = {("t", t): i for i, t in enumerate(teams)} | {("r", r): len(teams) + i for i, r in enumerate(reviewers)}
    groups = parts([(r, t) for r, t, _ in cells])
    a = np.zeros((len(cells) + len(groups), len(col)))
    b = np.zeros(len(cells) + len(groups))
    for row, (r, t, s) in enumerate(cells):
        a[row, col[("t", t)]] = a[row, col[("r", r)]] = 1.0
        b[row] = s
    for row, group in enumerate(groups, len(cells)):
        a[row, [col[("r", r)] for r in group]] = 1.0  # the constraint leaves the fit's residuals as they are
    x = np.linalg.lstsq(a, b, rcond=None)[0]
    return ({t: float(x[col[("t", t)]]) for t in teams}, {r: float(x[col[("r", r)]]) for r in reviewers})
