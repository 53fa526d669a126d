"""How far can a campaign of rigged votes move a model, and how much do the arena's defences take back?

A seeded simulation: honest visitors vote on uniformly drawn pairs by known strengths (Bradley–Terry,
with ties), spread over a stage's days and over many networks; a campaign adds a few hundred votes for
one model — in battles where it happens to face the target, which it recognises (``recognition``, what
:mod:`dokja.arena.deanon` measures) — from fresh visitors in a few subnets within a few hours. The
target's rating and user points are computed with the real leaderboard and points code, without the
campaign and with it under each defence:

* none: every vote counts;
* flags: the per-visitor honesty tests (:func:`~dokja.arena.honesty.flag_visitors`), the favourite-model
  test (:func:`~dokja.arena.honesty.flag_favourites`) and both per subnet
  (:func:`~dokja.arena.honesty.flag_subnets`);
* budgets: new visitors and votes per address and per subnet (:mod:`dokja.arena.budgets`);
* proof of work: the campaign's new visitors are capped by the solves it can afford
  (``solves_per_hour`` × its hours); honest visitors pay their one solve and are never refused;
* all of them together.

The simulation is the attacker's best case: every recognised vote is a win for the target, cast at a
reading pace (so the speed test does not fire).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..programme.schema import Arena
from .budgets import NEW_VISITORS, VOTES, Budget, admitted
from .errors import ArenaError
from .honesty import flag_favourites, flag_subnets, flag_visitors
from .leaderboard import VoteRecord, compute_leaderboard
from .points import model_points

__all__ = ["DEFENCES", "Campaign", "Defences", "Honest", "Shift", "simulate", "shifts"]


@dataclass(frozen=True)
class Honest:
    """The honest arena: models' strengths (natural-log Bradley–Terry), votes, visitors and networks."""

    strengths: dict[str, float] = field(default_factory=lambda: {
        f"model-{k}": float(s) for k, s in enumerate(np.linspace(-1.0, 1.0, 8))})
    votes: int = 6000
    per_visitor: int = 10
    tie_share: float = 0.15
    days: float = 14.0
    subnets: int = 2000


@dataclass(frozen=True)
class Campaign:
    """Rigged votes for ``target``: ``votes`` of them, ``per_visitor`` each, from ``subnets`` /24s, within ``hours``."""

    target: str = "model-2"
    votes: int = 300
    per_visitor: int = 1
    subnets: int = 3
    hours: float = 2.0
    recognition: float = 1.0
    start_day: float = 7.0


@dataclass(frozen=True)
class Defences:
    """Which defences apply; ``solves_per_hour`` is the campaign's proof-of-work budget (None: no proof of work)."""

    flags: bool = False
    budgets: tuple[Budget, Budget] | None = None  # (new visitors, votes)
    solves_per_hour: float | None = None


DEFENCES = {
    "none": Defences(),
    "flags": Defences(flags=True),
    "budgets": Defences(budgets=(NEW_VISITORS, VOTES)),
}


@dataclass(frozen=True)
class Shift:
    """What the campaign did to its target under one set of defences, against the honest arena alone."""

    defence: str
    rating: float  # the target's rating with the campaign minus without (Elo-like scale)
    points: float  # the same for its user points, out of 25
    campaign_counted: int  # campaign votes that counted
    honest_lost: int  # honest votes the defences left out


def _honest(h: Honest, rng: np.random.Generator) -> list[dict]:
    models = sorted(h.strengths)
    theta = np.array([h.strengths[m] for m in models])
    n = h.votes
    i = rng.integers(0, len(models), n)
    j = (i + rng.integers(1, len(models), n)) % len(models)
    p = 1 / (1 + np.exp(theta[j] - theta[i]))
    u = rng.random(n)
    outcome = np.where(u < p * (1 - h.tie_share), "a", np.where(u < 1 - h.tie_share, "b", "tie"))
    visitors = math.ceil(n / h.per_visitor)
    arrive = rng.uniform(0, h.days * 86400, visitors)
    nets = rng.integers(0, h.subnets, visitors)
    hosts = rng.integers(1, 255, visitors)
    seconds = rng.lognormal(math.log(12.0), 0.6, n)
    out = []
    for k in range(n):
        v = k // h.per_visitor
        out.append({"visitor": f"h{v}", "address": f"10.{nets[v] // 250}.{nets[v] % 250}.{hosts[v]}",
                    "at": float(arrive[v] + 90 * (k % h.per_visitor)), "model_a": models[i[k]],
                    "model_b": models[j[k]], "outcome": str(outcome[k]), "seconds": float(seconds[k])})
    return out


def _campaign(c: Campaign, models: list[str], rng: np.random.Generator) -> list[dict]:
    others = [m for m in models if m != c.target]
    visitors = math.ceil(c.votes / c.per_visitor)
    start = c.start_day * 86400
    arrive = np.sort(rng.uniform(start, start + c.hours * 3600, visitors))
    out = []
    for k in range(c.votes):
        v = k // c.per_visitor
        rival = others[int(rng.integers(len(others)))]
        target_left = bool(rng.random() < 0.5)
        a, b = (c.target, rival) if target_left else (rival, c.target)
        recognised = rng.random() < c.recognition
        side = ("a" if target_left else "b") if recognised else ("a" if rng.random() < 0.5 else "b")
        net = v % c.subnets
        out.append({"visitor": f"c{v}", "address": f"172.{16 + net // 250}.{net % 250}.{1 + (v // c.subnets) % 254}",
                    "at": float(arrive[v] + 90 * (k % c.per_visitor)), "model_a": a, "model_b": b,
                    "outcome": side, "seconds": float(rng.lognormal(math.log(10.0), 0.4))})
    return out


def _defend(votes: list[dict], d: Defences, c: Campaign) -> list[dict]:
    """The votes that count under the defences, each with its ``flagged`` mark."""
    kept = votes
    if d.solves_per_hour is not None:
        affordable = int(d.solves_per_hour * c.hours)
        order = sorted({v["visitor"] for v in votes if v["visitor"].startswith("c")}, key=lambda x: int(x[1:]))
        paid = set(order[:affordable])
        kept = [v for v in kept if not v["visitor"].startswith("c") or v["visitor"] in paid]
    if d.budgets is not None:
        kept = _within_budgets(kept, *d.budgets)
    flagged: set = set()
    if d.flags:
        flagged = set(flag_visitors(kept)) | set(flag_favourites(kept)) | set(flag_subnets(kept))
    return [{**v, "flagged": v["visitor"] in flagged} for v in kept]


def _within_budgets(votes: list[dict], visitors: Budget, ballots: Budget) -> list[dict]:
    first: dict[str, dict] = {}
    for v in sorted(votes, key=lambda v: v["at"]):
        first.setdefault(v["visitor"], v)
    welcome = [name for name, ok in zip(first, admitted(((v["at"], v["address"]) for v in first.values()), visitors))
               if ok]
    welcome = set(welcome)
    kept = [v for v in votes if v["visitor"] in welcome]
    return [v for v, ok in zip(kept, admitted(((v["at"], v["address"]) for v in kept), ballots)) if ok]


def _records(votes: list[dict]) -> list[VoteRecord]:
    return [VoteRecord(f"{v['visitor']}-{k}", v["model_a"], v["model_b"], v["outcome"], flagged=v.get("flagged", False))
            for k, v in enumerate(votes)]


def _standing(votes: list[dict], target: str) -> tuple[float, float]:
    """The target's rating and user points (default ``[arena]`` mapping) from the counted votes."""
    board = compute_leaderboard(_records(votes), parts="refuse")
    rating = next((r.rating for r in board.rows if r.model == target), math.nan)
    return rating, model_points(board, mapping=Arena()).get(target, math.nan)


def simulate(honest: Honest, campaign: Campaign, defences: dict[str, Defences], seed: int = 0) -> list[Shift]:
    """The campaign's shift of its target's rating and points under each named set of defences."""
    if campaign.target not in honest.strengths:
        raise ArenaError(f"campaign target {campaign.target!r} is not one of the arena's models")
    rng = np.random.default_rng(seed)
    fair = _honest(honest, rng)
    rigged = fair + _campaign(campaign, sorted(honest.strengths), rng)
    out = []
    for name, d in defences.items():
        base = _defend(fair, d, campaign)
        attacked = _defend(rigged, d, campaign)
        r0, p0 = _standing(base, campaign.target)
        r1, p1 = _standing(attacked, campaign.target)
        counted = sum(1 for v in attacked if v["visitor"].startswith("c") and not v["flagged"])
        lost = sum(1 for v in attacked if v["visitor"].startswith("h") and v["flagged"])
        lost += len(fair) - sum(1 for v in attacked if v["visitor"].startswith("h"))
        out.append(Shift(name, r1 - r0, p1 - p0, counted, lost))
    return out


def shifts(honest: Honest = Honest(), campaign: Campaign = Campaign(), *, solves_per_hour: float = 20.0,
           seed: int = 0) -> list[Shift]:
    """The standard table: no defence, flags, budgets, proof of work, and all three together."""
    table = dict(DEFENCES)
    table["proof of work"] = Defences(solves_per_hour=solves_per_hour)
    table["all"] = Defences(flags=True, budgets=(NEW_VISITORS, VOTES), solves_per_hour=solves_per_hour)
    return simulate(honest, campaign, table, seed)

