"""Honest votes: per-visitor anomaly tests, and floods of the same prompt.

A visitor is flagged when, over at least ``min_votes`` votes, any of three tests fires at
level ``alpha`` (so an honest visitor is flagged with probability at most about 3·alpha):

* history: each vote's p-value against the outcomes other visitors gave the same pair
  (the probability, under those outcomes' shares, of an outcome at least as much of an
  upset as the one cast), combined over the visitor's votes with Fisher's method. These discrete
  p-values are conservative, so Fisher's test is too;
* same side: a two-sided binomial test that decisive votes favour A and B equally
  (the sides are a fair coin, so an honest visitor has no side to prefer);
* too fast: at least half the votes came sooner than ``min_seconds`` after both answers
  finished, less than it takes to read them.

Flagged votes are kept, and exported with their flag, but left out of the ratings.

Two further tests, for campaigns: :func:`flag_favourites` (a visitor's votes all lean towards one
model, each only a mild upset, which the history test barely sees), and :func:`flag_subnets` (the tests
on the pooled votes of each subnet: made-up visitors with one vote each escape every per-visitor test,
but coming from few networks, they are judged together).

Every test runs on counts of alike votes per visitor (or subnet) and pair (:class:`UnitCount`) against
everyone's outcomes per pair: the store keeps both as votes arrive, so its flags are refreshed without
reading a vote, and equal the tests run over every vote (:func:`flag_all`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Callable, Hashable, Iterable, Mapping, Sequence

import numpy as np

__all__ = ["ALPHA", "MIN_SECONDS", "MIN_VOTES", "RULES_EN", "RULES_KO", "PromptFlood", "UnitCount", "client_net",
           "fisher", "flag_all", "flag_favourites", "flag_subnets", "flag_visitors", "merge_flags",
           "normalise_prompt", "pair_history", "prompt_flood", "same_side_pvalue", "same_side_rate", "too_fast",
           "unit_counts", "unit_flags", "vote_pvalues"]

ALPHA = 1e-3  # each test's level
MIN_VOTES = 10  # a visitor (or subnet) with fewer votes is not judged
MIN_SECONDS = 3.0  # a vote sooner than this after both answers finished came too fast to read them

RULES_EN = (
    "Votes are anonymous and one per battle; a vote counts only after both answers have finished. "
    "To keep the leaderboard honest, each visitor's votes are tested: against how other visitors judged "
    "the same pair of models, for always choosing the same side, for favouring one model far beyond what "
    "everyone else's votes give it, and for voting faster than the answers can be read; the same tests run "
    "on the pooled votes of each network (/24 or /48), so many made-up visitors from one place are caught "
    "together. Votes of a visitor flagged by these tests (each at a 0.1% level, over at least 10 votes) "
    "are kept and published with their flag, but do not count in the ratings. Battles in which a model "
    "names itself or its maker are not counted either. Repeating the same prompt many times in a short "
    "while is refused.")
RULES_KO = (
    "투표는 익명이며 대결마다 한 번만 할 수 있고, 두 답변이 모두 끝난 뒤에만 인정됩니다. "
    "순위표의 공정성을 위해 방문자마다 투표를 검정합니다: 같은 모델 쌍에 대한 다른 방문자들의 판정과 비교하고, "
    "늘 같은 쪽만 고르는지, 다른 방문자들보다 한 모델을 지나치게 편드는지, 답변을 읽을 수 없을 만큼 빨리 "
    "투표하는지 봅니다. 같은 검정을 네트워크(/24 또는 /48)별로 모은 투표에도 적용해, 한곳에서 만든 여러 "
    "방문자를 함께 찾아냅니다. 이 검정(각각 유의수준 0.1%, "
    "투표 10건 이상)에 걸린 방문자의 투표는 표시와 함께 보관·공개되지만 점수에는 반영되지 않습니다. "
    "모델이 자기 이름이나 개발사를 밝힌 대결도 반영되지 않습니다. 짧은 시간에 같은 질문을 여러 번 "
    "반복하면 거절됩니다.")

_SIDE = {"a": 0, "b": 1, "tie": 2, "both_bad": 2}


def _oriented(vote: Mapping) -> tuple[tuple[str, str], int]:
    return _orient(vote["model_a"], vote["model_b"], vote["outcome"])


def _orient(a: str, b: str, outcome: str) -> tuple[tuple[str, str], int]:
    """The sorted pair and the outcome as (first wins 0, second wins 1, tie 2)."""
    o = _SIDE[outcome]
    if a <= b:
        return (a, b), o
    return (b, a), (1 - o if o < 2 else 2)


def pair_history(votes: Iterable[Mapping]) -> dict[tuple[str, str], np.ndarray]:
    """Outcome counts per sorted pair: (first wins, second wins, tie or both bad). A mapping with ``n`` stands
    for that many votes alike (the store's counts)."""
    out: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(3))
    for v in votes:
        pair, o = _oriented(v)
        out[pair][o] += v.get("n", 1)
    return dict(out)


def vote_pvalues(votes_of_visitor: Sequence[Mapping], pair_history: Mapping[tuple[str, str], Sequence[float]],
                 prior: float = 1.0) -> list[float]:
    """Each vote's p-value: the historical probability of an outcome at least as much of an upset.

    Outcomes are ordered by how far they go against the pair's history: a win for the side that
    has won less is the biggest upset, a tie next, a win for the usual winner none (p = 1).
    Historical shares get ``prior`` added to each outcome, so an outcome never seen is unlikely
    but not impossible; a pair without history, or an even one, gives p = 1.
    """
    out = []
    for v in votes_of_visitor:
        pair, o = _oriented(v)
        counts = np.asarray(pair_history.get(pair, np.zeros(3)), dtype=np.float64) + prior
        probs = counts / counts.sum()
        upset = np.array([probs[1] - probs[0], probs[0] - probs[1], 0.0])
        out.append(float(min(1.0, probs[upset >= upset[o] - 1e-12].sum())))
    return out


def fisher(pvalues: Sequence[float]) -> float:
    """Fisher's combined p-value: P(χ²₂ₖ ≥ −2 Σ ln pᵢ)."""
    from scipy.special import chdtrc

    p = np.clip(np.asarray(pvalues, dtype=np.float64), 1e-300, 1.0)
    if p.size == 0:
        return 1.0
    return float(chdtrc(2 * p.size, -2.0 * np.log(p).sum()))


def same_side_rate(outcomes: Sequence[str]) -> float:
    """Share of decisive votes (A or B) on the visitor's more frequent side; 0.5 is balanced."""
    a, b = outcomes.count("a"), outcomes.count("b")
    return max(a, b) / (a + b) if a + b else 0.5


def same_side_pvalue(outcomes: Sequence[str]) -> float:
    """Two-sided binomial test that decisive votes pick A and B with equal chance."""
    from scipy.special import bdtr

    a, b = outcomes.count("a"), outcomes.count("b")
    if not a + b:
        return 1.0
    return float(min(1.0, 2.0 * bdtr(min(a, b), a + b, 0.5)))


def too_fast(seconds: Sequence[float], *, min_seconds: float = MIN_SECONDS, share: float = 0.5) -> bool:
    """Whether at least ``share`` of the votes came sooner than ``min_seconds`` after the answers finished."""
    s = [x for x in seconds if x is not None and math.isfinite(x)]
    return bool(s) and sum(x < min_seconds for x in s) >= share * len(s)


@dataclass(frozen=True, slots=True)
class UnitCount:
    """How many votes one unit (a visitor, or a subnet's visitors pooled) cast for one ordered pair and outcome,
    and whether they came too fast (None: not timed). The tests need nothing else, so the store keeps these
    counts as votes arrive and re-tests a visitor without reading its votes again."""

    unit: Hashable
    model_a: str
    model_b: str
    outcome: str
    quick: bool | None
    n: int


def unit_counts(votes: Iterable[Mapping], *, unit: Callable[[Mapping], Hashable | None] | None = None,
                min_seconds: float = MIN_SECONDS) -> list[UnitCount]:
    """The votes summed per unit: each vote's ``visitor``, or ``unit(vote)`` (a vote it gives None is left out)."""
    key = itemgetter("visitor") if unit is None else unit
    tally = Counter((key(v), v["model_a"], v["model_b"], v["outcome"], _quick(v.get("seconds"), min_seconds))
                    for v in votes)
    return [UnitCount(*k, n) for k, n in tally.items() if k[0] is not None]


def unit_flags(counts: Sequence[UnitCount], history: Mapping[tuple[str, str], Sequence[float]], *,
               alpha: float = ALPHA, min_votes: int = MIN_VOTES, min_seconds: float = MIN_SECONDS
               ) -> dict[Hashable, list[str]]:
    """Unit → reasons, for the units any test flags (history, same side, too fast, then favourite).

    ``history`` is everyone's outcome counts per sorted pair (:func:`pair_history`), the unit's own included:
    each unit is judged against the others' votes only. A unit's verdict depends on its own counts and the
    history alone, so any set of units can be tested on its own and gets the same reasons."""
    if not counts:
        return {}
    rows = _rows(counts, history)
    out = _visitor_reasons(rows, alpha, min_votes, min_seconds)
    for unit, reasons in _favourite_reasons(rows, alpha, min_votes).items():
        out.setdefault(unit, []).extend(reasons)
    return out


def merge_flags(own: Mapping[Hashable, list[str]], nets: Mapping[str, list[str]],
                members: Mapping[str, Iterable[Hashable]]) -> dict[Hashable, list[str]]:
    """Visitor → reasons: its own, then those of the subnet its votes were pooled in."""
    out = {visitor: list(reasons) for visitor, reasons in own.items()}
    for net, reasons in nets.items():
        for visitor in members.get(net, ()):
            kept = out.setdefault(visitor, [])
            kept += [f"subnet {net}: {r}" for r in reasons if f"subnet {net}: {r}" not in kept]
    return out


def flag_all(votes: Sequence[Mapping], **options) -> dict[Hashable, list[str]]:
    """Visitor → reasons from every test: :func:`flag_visitors`, :func:`flag_favourites` and :func:`flag_subnets`
    merged, as the arena stores them."""
    history = pair_history(votes)
    members: dict[str, set] = defaultdict(set)
    for v in votes:
        net = client_net(v.get("address"))
        if net:
            members[net].add(v["visitor"])
    seconds = {"min_seconds": options["min_seconds"]} if "min_seconds" in options else {}
    own = unit_flags(unit_counts(votes, **seconds), history, **options)
    nets = unit_flags(unit_counts(votes, unit=lambda v: client_net(v.get("address")), **seconds), history, **options)
    return merge_flags(own, nets, members)


def flag_visitors(votes: Sequence[Mapping], *, alpha: float = ALPHA, min_votes: int = MIN_VOTES,
                  min_seconds: float = MIN_SECONDS) -> dict[Hashable, list[str]]:
    """Visitor → reasons, for visitors any of the history, same-side and too-fast tests flags.

    Each vote is a mapping with ``visitor``, ``model_a``, ``model_b``, ``outcome`` ("a", "b",
    "tie", "both_bad") and optionally ``seconds`` (from both answers finished to the vote).
    A visitor's votes are judged against everyone else's, never against their own. The same
    tests as :func:`vote_pvalues`, :func:`fisher`, :func:`same_side_pvalue` and :func:`too_fast`,
    computed for all visitors at once.
    """
    if not votes:
        return {}
    rows = _rows(unit_counts(votes, min_seconds=min_seconds), pair_history(votes))
    return _visitor_reasons(rows, alpha, min_votes, min_seconds)


def flag_favourites(votes: Sequence[Mapping], *, alpha: float = ALPHA, min_votes: int = MIN_VOTES
                    ) -> dict[Hashable, list[str]]:
    """Visitor → reasons, for visitors whose votes favour one model far beyond what everyone else's give it.

    For each visitor and model met in at least ``min_votes`` votes, the model's score (1 a win, ½ a tie
    or both bad, 0 a loss) is summed against its expectation under the other visitors' outcomes on the
    same pairs, and judged by Bernstein's inequality, which holds whatever the pairs (so it is
    conservative), at ``alpha`` divided by the number of models. It catches a campaign for a middling
    model that the history test misses: such votes are mild upsets one by one, but all lean one way.
    """
    if not votes:
        return {}
    return _favourite_reasons(_rows(unit_counts(votes), pair_history(votes)), alpha, min_votes)


def flag_subnets(votes: Sequence[Mapping], *, alpha: float = ALPHA, min_votes: int = MIN_VOTES,
                 min_seconds: float = MIN_SECONDS) -> dict[Hashable, list[str]]:
    """Visitor → reasons, for the visitors of every subnet whose pooled votes the tests flag.

    The tests are those of :func:`flag_visitors` and :func:`flag_favourites`. Each vote also carries
    ``address``; the subnet is its /24 or /48 (:func:`dokja.arena.budgets.subnet`); a vote without one
    counts in the others' history but belongs to no subnet. An honest subnet's pooled votes are as
    honest as a visitor's, so it is flagged with about the same small probability however many share it.
    """
    members: dict[str, set] = defaultdict(set)
    for v in votes:
        net = client_net(v.get("address"))
        if net:
            members[net].add(v["visitor"])
    pooled = unit_counts(votes, unit=lambda v: client_net(v.get("address")), min_seconds=min_seconds)
    nets = unit_flags(pooled, pair_history(votes), alpha=alpha, min_votes=min_votes, min_seconds=min_seconds)
    return {visitor: [f"subnet {net}: {r}" for r in reasons] for net, reasons in nets.items()
            for visitor in members[net]}


@dataclass(frozen=True)
class _Rows:
    """Unit counts as arrays, in a canonical order (so any set of units sums the same way), with each row's
    outcome shares among the other units' votes on its pair; ``first`` < ``second`` index ``models``."""

    units: list
    models: list[str]
    who: np.ndarray
    o: np.ndarray
    first: np.ndarray
    second: np.ndarray
    n: np.ndarray
    side: np.ndarray
    pace: np.ndarray
    probs: np.ndarray


def _rows(counts: Sequence[UnitCount], history: Mapping[tuple[str, str], Sequence[float]]) -> _Rows:
    table = sorted(((c.model_a, c.model_b, c.outcome, _pace(c), c.unit, c.n) for c in counts),
                   key=itemgetter(0, 1, 2, 3))
    model_a, model_b, outcome, pace, unit, n = zip(*table)
    uid: dict = {}
    who = np.array([uid.setdefault(u, len(uid)) for u in unit], np.int64)
    models = sorted({m for p in history for m in p} | set(model_a) | set(model_b))
    mid = {m: k for k, m in enumerate(models)}
    a, b = np.array([mid[m] for m in model_a], np.int64), np.array([mid[m] for m in model_b], np.int64)
    side = np.array([_SIDE[x] for x in outcome], np.int64)  # 0 A won, 1 B won, 2 a tie or both bad
    o = np.where(a <= b, side, np.where(side < 2, 1 - side, 2))  # the sorted pair's first model won 0, second 1
    first, second, n_m = np.minimum(a, b), np.maximum(a, b), len(models)
    pair = first * n_m + second
    everyone = np.zeros((n_m * n_m, 3))
    for (x, y), c in history.items():
        everyone[mid[x] * n_m + mid[y]] = c
    n = np.array(n, np.float64)
    _, cell = np.unique(who * (n_m * n_m) + pair, return_inverse=True)
    own = np.column_stack([np.bincount(cell, n * (o == c))[cell] for c in range(3)])
    probs = everyone[pair] - own + 1.0
    probs /= probs.sum(1, keepdims=True)
    return _Rows(list(uid), models, who, o, first, second, n, side, np.array(pace, np.int64), probs)


def _pace(c: UnitCount) -> int:
    return -1 if c.quick is None else int(c.quick)


def _quick(seconds: float | None, min_seconds: float) -> bool | None:
    return None if seconds is None or not math.isfinite(seconds) else seconds < min_seconds


def _visitor_reasons(r: _Rows, alpha: float, min_votes: int, min_seconds: float) -> dict[Hashable, list[str]]:
    """The history, same-side and too-fast tests of every unit."""
    from scipy.special import bdtr, chdtrc

    probs, o, who, n, n_v = r.probs, r.o, r.who, r.n, len(r.units)
    upset = np.column_stack([probs[:, 1] - probs[:, 0], probs[:, 0] - probs[:, 1], np.zeros(len(o))])
    mine = upset[np.arange(len(o)), o]
    pvalue = np.minimum(1.0, (probs * (upset >= mine[:, None] - 1e-12)).sum(1))
    size = np.rint(np.bincount(who, n, n_v)).astype(np.int64)
    p_history = chdtrc(2 * np.maximum(size, 1), -2.0 * np.bincount(who, n * np.log(np.maximum(pvalue, 1e-300)), n_v))
    n_a = np.rint(np.bincount(who, n * (r.side == 0), n_v)).astype(np.int64)
    n_b = np.rint(np.bincount(who, n * (r.side == 1), n_v)).astype(np.int64)
    decisive = n_a + n_b
    p_side = np.where(decisive > 0, np.minimum(1.0, 2.0 * bdtr(np.minimum(n_a, n_b), np.maximum(decisive, 1), 0.5)),
                      1.0)
    timed = np.bincount(who, n * (r.pace >= 0), n_v)
    quick = np.bincount(who, n * (r.pace == 1), n_v)
    flags = {}
    for k in np.flatnonzero(size >= min_votes):
        reasons = []
        if p_history[k] < alpha:
            reasons.append(f"history: votes unlike other visitors' on the same pairs (Fisher p = {p_history[k]:.1e})")
        if p_side[k] < alpha:
            rate, which = max(n_a[k], n_b[k]) / decisive[k], "A" if n_a[k] >= n_b[k] else "B"
            reasons.append(f"same side: {rate:.0%} of decisive votes for {which} (binomial p = {p_side[k]:.1e})")
        if timed[k] and quick[k] >= 0.5 * timed[k]:
            reasons.append(f"too fast: {int(quick[k])} of {int(size[k])} votes within {min_seconds:g} s of the answers")
        if reasons:
            flags[r.units[k]] = reasons
    return flags


def _favourite_reasons(r: _Rows, alpha: float, min_votes: int) -> dict[Hashable, list[str]]:
    """The favourite-model test of every unit (see :func:`flag_favourites`)."""
    probs, o, n, n_v, n_m = r.probs, r.o, r.n, len(r.units), len(r.models)
    score = np.where(o == 0, 1.0, np.where(o == 1, 0.0, 0.5))  # the first model's score
    mean = probs[:, 0] + probs[:, 2] / 2
    var = probs[:, 0] + probs[:, 2] / 4 - mean ** 2
    excess, spread, count = (np.zeros(n_v * n_m) for _ in range(3))
    for model, sign in ((r.first, 1.0), (r.second, -1.0)):
        at = r.who * n_m + model
        excess += np.bincount(at, n * sign * (score - mean), n_v * n_m)
        spread += np.bincount(at, n * var, n_v * n_m)
        count += np.bincount(at, n, n_v * n_m)
    up = np.maximum(excess, 0.0)
    bound = np.where(up > 0, np.exp(-up ** 2 / (2 * (spread + up / 3) + 1e-300)), 1.0)
    out: dict[Hashable, list[str]] = {}
    for cell in np.flatnonzero((count >= min_votes) & (bound * n_m < alpha)):
        k, m = divmod(int(cell), n_m)
        out.setdefault(r.units[k], []).append(
            f"favourite: {r.models[m]} scored {excess[cell]:+.1f} above expectation over {int(count[cell])} votes "
            f"(p < {min(1.0, bound[cell] * n_m):.1e})")
    return out


@lru_cache(maxsize=1 << 16)
def client_net(address: str | None) -> str | None:
    """The subnet a vote's address pools into; none for no address, an unreadable one, or loopback (behind a
    proxy not configured as trusted every visitor has the proxy's address, which says nothing of them).
    Remembered: a visitor's every vote asks for the same address."""
    import ipaddress

    from .budgets import subnet

    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return None
    return None if ip.is_loopback or ip.is_unspecified else subnet(str(ip))


def _seconds(vote: Mapping) -> float:
    s = vote.get("seconds")
    return float(s) if s is not None and math.isfinite(s) else math.nan


def normalise_prompt(prompt: str) -> str:
    """The prompt as compared for floods: NFKC, case-folded, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKC", prompt).casefold()
    return " ".join(re.sub(r"[^\w\s]+", " ", text).split())


class PromptFlood:
    """Sliding-window counter of each normalised prompt: more than ``limit`` within ``window_s`` is a flood."""

    def __init__(self, window_s: float = 600.0, limit: int = 20):
        self.window_s, self.limit = window_s, limit
        self._seen: dict[str, deque] = defaultdict(deque)

    def add(self, prompt: str, at: float) -> bool:
        """Record a prompt at time ``at`` (seconds); True when it floods and should be refused."""
        key = normalise_prompt(prompt)
        times = self._seen[key]
        while times and times[0] <= at - self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            return True
        times.append(at)
        return False


def prompt_flood(prompts: Iterable[tuple[float, str]], *, window_s: float = 600.0, limit: int = 20) -> bool:
    """Whether any normalised prompt occurs more than ``limit`` times within ``window_s`` seconds."""
    watch = PromptFlood(window_s, limit)
    return any([watch.add(text, t) for t, text in sorted(prompts, key=lambda x: x[0])])
