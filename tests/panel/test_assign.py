"""Assignment, pure: k eligible reviewers per team, exact probabilities, the cap, the seed."""

from collections import Counter

import pytest

from dokja.panel.assign import assign, loads
from dokja.panel.errors import PanelError

REVIEWERS = [f"R{i}" for i in range(1, 10)]
TEAMS = ["a", "b", "c", "d", "e"]


def eligible(conflicts=()):
    return {t: [r for r in REVIEWERS if (r, t) not in conflicts] for t in TEAMS}


def test_k_per_team_never_a_conflicted_pair_and_exact_probabilities():
    conflicts = {("R1", "a"), ("R2", "a"), ("R3", "b")}
    draws = assign(REVIEWERS, eligible(conflicts), 3, 1.0, 7, "stage-1")
    assert Counter(d.team for d in draws) == {t: 3 for t in TEAMS}
    assert not {(d.reviewer, d.team) for d in draws} & conflicts
    assert {d.team: d.probability for d in draws} == {"a": 3 / 7, "b": 3 / 8, "c": 3 / 9, "d": 3 / 9, "e": 3 / 9}


def test_the_stated_probabilities_are_the_drawing_frequencies():
    """Over 3000 seeds each eligible pair is drawn with its stated probability (4 standard errors)."""
    conflicts = {("R1", "a"), ("R2", "a"), ("R3", "a"), ("R1", "b")}
    table = eligible(conflicts)
    counts, n = Counter(), 3000
    for seed in range(n):
        counts.update((d.reviewer, d.team) for d in assign(REVIEWERS, table, 3, 1.0, seed, "s"))
    for team, allowed in table.items():
        p = 3 / len(allowed)
        for r in allowed:
            assert abs(counts[(r, team)] / n - p) < 4 * (p * (1 - p) / n) ** 0.5 + 1e-9, (r, team)


def test_the_same_seed_gives_the_same_draw_and_another_seed_or_stage_another():
    one = assign(REVIEWERS, eligible(), 3, 1.0, 42, "stage-1")
    assert one == assign(REVIEWERS, eligible(), 3, 1.0, 42, "stage-1")
    assert one != assign(REVIEWERS, eligible(), 3, 1.0, 43, "stage-1")
    assert one != assign(REVIEWERS, eligible(), 3, 1.0, 42, "stage-2")


def test_without_conflicts_the_load_is_dealt_evenly():
    for seed in range(20):
        load = loads(assign(REVIEWERS, eligible(), 3, 1.0, seed, "s"))
        assert sum(load.values()) == 15 and max(load.values()) - min(load.values()) <= 1


def test_too_few_eligible_reviewers_is_refused():
    table = eligible({("R1", "c")}) | {"c": ["R4", "R5"]}
    with pytest.raises(PanelError, match="team c has only 2 eligible reviewers; reviewers_per_team is 3"):
        assign(REVIEWERS, table, 3, 1.0, 0, "s")


def test_the_cap_is_respected_or_refused():
    draws = assign(REVIEWERS, eligible(), 3, 0.34, 0, "s")
    assert max(d.probability for d in draws) <= 0.34
    with pytest.raises(PanelError, match=r"team a: 9 eligible reviewers give each a probability of 0.333, above "
                                         r"max_probability 0.3; it needs at least 10"):
        assign(REVIEWERS, eligible(), 3, 0.3, 0, "s")
