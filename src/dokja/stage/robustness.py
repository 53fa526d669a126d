"""How firm a stage decision is: the decision rerun on bootstrap replicates of its own inputs.

A replicate redraws each suite's items once for all models (a paired bootstrap: two models are
compared on the same items, so item difficulty does not drown their difference), redraws the
arena's votes, and redraws each team's reviewers from those who scored it (so a panel of three
carries the uncertainty of three opinions). Expert points given by hand (CSV) and published
reference scores are fixed. The ranking itself is a function passed in, so this module never depends on how
points are computed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .inputs import StageError
from .records import CloseCall, ItemScore, Placing, Robustness, RunUsed, StageInputs, TeamOdds

__all__ = ["MORE_EVALUATION", "Placing", "TeamOdds", "CloseCall", "Robustness", "resample", "robustness",
           "verdicts"]

FLIP_MIN = 0.05  # a pair other than the one at the cut is a close call if it flips this often
DIGITS = 4  # probabilities and gaps are rounded so the canonical JSON is stable
MORE_EVALUATION = "more evaluation needed"


# --- resampling -------------------------------------------------------------------------------------


def resample(inputs: StageInputs, rng: np.random.Generator) -> StageInputs:
    """One joint bootstrap replicate: per suite one draw of items shared by every run, and the votes redrawn.

    A run lacking a drawn item keeps only the items it has, each as often as it was drawn. Runs of
    references with only published scores, expert points and CSV user points are left as they are.
    """
    draws = {suite: _draw(ids, rng) for suite, ids in _suite_items(inputs).items()}
    teams = tuple(t.model_copy(update={"runs": _redraw(t.runs, draws)}) for t in inputs.teams)
    references = tuple(r.model_copy(update={"runs": _redraw(r.runs, draws)}) if r.runs else r
                       for r in inputs.references)
    update: dict[str, object] = {"teams": teams, "references": references}
    if inputs.arena is not None and inputs.arena.votes:
        votes = inputs.arena.votes
        picks = rng.integers(0, len(votes), size=len(votes))
        update["arena"] = inputs.arena.model_copy(update={"votes": tuple(votes[k] for k in picks)})
    if inputs.panel is not None:
        update["panel"] = _redraw_reviewers(inputs.panel, rng)
    return inputs.model_copy(update=update)


def _redraw_reviewers(panel, rng: np.random.Generator):
    """Each team's reviewers drawn again, with replacement, from those who scored it; a reviewer drawn twice
    counts twice on every criterion."""
    by_team: dict[str, dict[str, list]] = {}
    for s in panel.scores:
        by_team.setdefault(s.team, {}).setdefault(s.reviewer, []).append(s)
    scores = []
    for team in sorted(by_team):
        reviewers = sorted(by_team[team])
        for k in rng.integers(0, len(reviewers), size=len(reviewers)):
            scores += by_team[team][reviewers[k]]
    return panel.model_copy(update={"scores": tuple(scores)})


def _suite_items(inputs: StageInputs) -> dict[str, tuple[str, ...]]:
    """Every item id seen per suite, sorted, so the draw does not depend on the order of the runs."""
    seen: dict[str, set[str]] = {}
    for entry in (*inputs.teams, *inputs.references):
        for suite, run in entry.runs.items():
            seen.setdefault(suite, set()).update(i.item for i in run.items)
    return {suite: tuple(sorted(ids)) for suite, ids in sorted(seen.items()) if ids}


def _draw(ids: tuple[str, ...], rng: np.random.Generator) -> tuple[str, ...]:
    picks = np.sort(rng.integers(0, len(ids), size=len(ids)))
    return tuple(ids[k] for k in picks)


def _redraw(runs: Mapping[str, RunUsed], draws: Mapping[str, tuple[str, ...]]) -> dict[str, RunUsed]:
    out: dict[str, RunUsed] = {}
    for suite, run in runs.items():
        drawn = draws.get(suite)
        if drawn is None:
            out[suite] = run
            continue
        by_id: dict[str, ItemScore] = {i.item: i for i in run.items}
        out[suite] = run.model_copy(update={"items": tuple(by_id[k] for k in drawn if k in by_id)})
    return out


# --- odds -------------------------------------------------------------------------------------------


def robustness(inputs: StageInputs, rank: Callable[[StageInputs], Sequence[Placing]], *, rounds: int,
               seed: int) -> Robustness:
    """`rank` on the inputs and on `rounds` seeded replicates: each team's odds and the close calls."""
    if rounds < 2:
        raise StageError(f"robustness needs at least 2 rounds of resampling, not {rounds}")
    original = tuple(rank(inputs))
    rng = np.random.default_rng(seed)
    replicates = [_by_team(rank(resample(inputs, rng))) for _ in range(rounds)]
    names = {t.id: t.name for t in inputs.teams}
    calls = [_close_call(a, b, replicates, at_cut=k == 0, names=names)
             for k, (a, b) in enumerate(_pairs(original))]
    cut = calls[0] if calls and calls[0].at_cut else None
    chosen = [c for c in calls if (c.at_cut and c.p_flip > 0) or (not c.at_cut and c.p_flip >= FLIP_MIN)]
    chosen.sort(key=lambda c: (not c.at_cut, -c.p_flip, c.advanced, c.eliminated))
    return Robustness(rounds=rounds, seed=seed, original=original,
                      teams=tuple(_odds(p, replicates, len(original)) for p in original),
                      cut=cut, close_calls=tuple(chosen))


def _by_team(placings: Sequence[Placing]) -> dict[str, Placing]:
    return {p.team: p for p in placings}


def _share(count: int, rounds: int) -> float:
    return round(count / rounds, DIGITS)


def _odds(placing: Placing, replicates: Sequence[Mapping[str, Placing]], n: int) -> TeamOdds:
    """A team missing from a replicate's placings counts as neither ranked nor advancing."""
    counts = [0] * n
    advanced = 0
    for rep in replicates:
        p = rep.get(placing.team)
        if p is None:
            continue
        if p.rank is not None and 1 <= p.rank <= n:
            counts[p.rank - 1] += 1
        advanced += bool(p.advanced)
    r = len(replicates)
    return TeamOdds(team=placing.team, rank=placing.rank, advanced=placing.advanced,
                    p_rank=tuple(_share(c, r) for c in counts), p_advance=_share(advanced, r),
                    p_eliminated=_share(r - advanced, r))


def _order(p: Placing) -> tuple[int, float, str]:
    return (p.rank if p.rank is not None else 0, -p.total, p.team)


def _pairs(original: Sequence[Placing]) -> list[tuple[Placing, Placing]]:
    """Every (advancer, team eliminated on points) pair: the last one in with the first one out first."""
    ranked = sorted((p for p in original if p.rank is not None), key=_order)
    ins = [p for p in ranked if p.advanced]
    outs = [p for p in ranked if not p.advanced]
    return [(a, b) for a in reversed(ins) for b in outs]


def _flipped(a: str, b: str, rep: Mapping[str, Placing]) -> bool:
    """`a` (in originally) is out, or `b` (out originally) advances ranked above it."""
    pa, pb = rep.get(a), rep.get(b)
    if pa is None or not pa.advanced:
        return True
    if pb is None or not pb.advanced or pb.rank is None:
        return False
    return pa.rank is None or pb.rank < pa.rank


def _close_call(a: Placing, b: Placing, replicates: Sequence[Mapping[str, Placing]], *, at_cut: bool,
                names: Mapping[str, str]) -> CloseCall:
    p_flip = _share(sum(_flipped(a.team, b.team, rep) for rep in replicates), len(replicates))
    gap = round(a.total - b.total, DIGITS)
    name_a, name_b = names.get(a.team, a.team), names.get(b.team, b.team)
    text = (f"{name_a} vs {name_b}: {name_a} is eliminated or overtaken by {name_b} in {_percent(p_flip)} "
            f"of resamples; a change of {_points(gap)} points would flip them")
    return CloseCall(advanced=a.team, eliminated=b.team, p_flip=p_flip, gap=gap, at_cut=at_cut, text=text)


def _percent(p: float) -> str:
    return "under 1%" if 0 < p < 0.01 else f"{p:.0%}"


def _points(x: float) -> str:
    return f"{x:.1f}" if abs(x) >= 1 else f"{x:.2g}"


# --- verdicts ---------------------------------------------------------------------------------------


def verdicts(odds: Robustness | Sequence[TeamOdds], rule_min_probability: float | None) -> dict[str, str]:
    """Per team "advance", "eliminated" or "more evaluation needed", under a pre-registered rule.

    With a threshold set, an elimination (on points or by a gate) stands only if the replicates
    eliminate the team at least that often; the rule is fixed before the results so it cannot be
    tuned to them. Without one, the decision stands as made.
    """
    if rule_min_probability is not None and not 0 <= rule_min_probability <= 1:
        raise StageError(f"the minimum probability for an elimination must lie in [0, 1], "
                         f"not {rule_min_probability}")
    teams = odds.teams if isinstance(odds, Robustness) else tuple(odds)
    out: dict[str, str] = {}
    for t in teams:
        if t.advanced:
            out[t.team] = "advance"
        elif rule_min_probability is None or t.p_eliminated >= rule_min_probability:
            out[t.team] = "eliminated"
        else:
            out[t.team] = MORE_EVALUATION
    return out


def unsure(odds: Robustness, names: Mapping[str, str], *, at: float = 0.95) -> list[str]:
    """Plain words for each outcome that does not hold in at least ``at`` of the resamples."""
    out = []
    for t in odds.teams:
        held = t.p_advance if t.advanced else t.p_eliminated
        if held < at:
            word = "advances" if t.advanced else "is eliminated"
            out.append(f"{names.get(t.team, t.team)} {word} in only {_percent(held)} of resamples")
    return out
