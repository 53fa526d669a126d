"""Assigning reviewers to teams, pure: dealt from one seeded shuffle, with each pair's exact probability.

The reviewers (sorted by key) are shuffled once with the published seed and the stage id. Team number i
(teams sorted) starts reading the shuffled deck, cyclically, at position i·k and takes the first k reviewers
eligible for it (no standing conflict). A cyclic shift of a uniformly random order is again uniformly random,
and the first k eligible reviewers of a uniformly random order are a uniformly random k-subset of them, so
every eligible reviewer of team t is drawn with probability exactly k / |eligible(t)|, the least any scheme
drawing k can give its most likely pair. Starting the teams k apart deals the deck round the table, so with
few conflicts each reviewer's load differs from another's by at most one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from .errors import PanelError
from .records import Draw


def shuffled(reviewers: Sequence[str], seed: int, stage: str) -> list[str]:
    """The deck: the reviewers sorted, then permuted by a generator seeded with the seed and the stage id's
    UTF-8 bytes (so each stage draws afresh, and anyone can redo it)."""
    ordered = sorted(reviewers)
    rng = np.random.default_rng([seed, *stage.encode("utf-8")])
    return [ordered[i] for i in rng.permutation(len(ordered))]


def check_feasible(eligible: Mapping[str, Sequence[str]], k: int, cap: float) -> None:
    """Refuse, naming the team, where k reviewers cannot be drawn or the cap cannot be met."""
    for team in sorted(eligible):
        m = len(eligible[team])
        if m < k:
            raise PanelError(f"team {team} has only {m} eligible reviewer{'s' if m != 1 else ''}; "
                             f"reviewers_per_team is {k}")
        if k / m > cap + 1e-12:
            raise PanelError(f"team {team}: {m} eligible reviewers give each a probability of {k / m:.3g}, "
                             f"above max_probability {cap:g}; it needs at least {math.ceil(k / cap - 1e-9)}")


def assign(reviewers: Sequence[str], eligible: Mapping[str, Sequence[str]], k: int, cap: float, seed: int,
           stage: str) -> tuple[Draw, ...]:
    """k reviewers per team, never an ineligible one, each pair with its exact probability."""
    check_feasible(eligible, k, cap)
    deck = shuffled(reviewers, seed, stage)
    n = len(deck)
    draws = []
    for i, team in enumerate(sorted(eligible)):
        allowed = set(eligible[team])
        start = (i * k) % n
        picked = [r for r in deck[start:] + deck[:start] if r in allowed][:k]
        p = k / len(allowed)
        draws += [Draw(reviewer=r, team=team, probability=p) for r in picked]
    return tuple(sorted(draws, key=Draw.key))


def loads(draws: Sequence[Draw]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in draws:
        out[d.reviewer] = out.get(d.reviewer, 0) + 1
    return out
