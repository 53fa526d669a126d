"""Rigged votes: how far a campaign moves its target, how much each defence takes back, and the tests behind them."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from dokja.arena import VoteRecord, compute_leaderboard
from dokja.arena.budgets import NEW_VISITORS, VOTES
from dokja.arena.honesty import flag_favourites, flag_subnets, flag_visitors
from dokja.arena.leaderboard import flag_effects
from dokja.arena.rigging import Campaign, Defences, Honest, simulate

sys.path.insert(0, str(Path(__file__).parent))
from test_honesty import MODELS, honest_vote, population  # noqa: E402

HONEST = Honest(votes=3000)
TABLE = {"none": Defences(), "flags": Defences(flags=True), "budgets": Defences(budgets=(NEW_VISITORS, VOTES)),
         "proof of work": Defences(solves_per_hour=20.0)}


def by_name(shifts):
    return {s.defence: s for s in shifts}


@pytest.fixture(scope="module")
def few_networks():
    """300 made-up visitors, one vote each, from three /24s within two hours."""
    return by_name(simulate(HONEST, Campaign(), TABLE, seed=0))


def test_an_undefended_campaign_moves_its_target(few_networks):
    none = few_networks["none"]
    assert none.campaign_counted == 300 and none.honest_lost == 0
    assert none.rating > 60  # measured +120 Elo with this seed
    assert none.points > 3  # of 25; measured +13.4


def test_flags_take_back_a_campaign_from_few_networks(few_networks):
    flags = few_networks["flags"]
    assert flags.campaign_counted == 0  # every subnet's pooled votes favour the target
    assert abs(flags.rating) <= 0.1 * few_networks["none"].rating
    assert flags.honest_lost <= 0.01 * HONEST.votes


def test_budgets_take_back_most_of_a_quick_campaign(few_networks):
    budgets = few_networks["budgets"]
    assert budgets.campaign_counted <= 3 * NEW_VISITORS.per_subnet * 3  # three /24s, two hours and a bit
    assert budgets.rating <= 0.4 * few_networks["none"].rating
    assert budgets.honest_lost <= 0.01 * HONEST.votes


def test_proof_of_work_caps_the_campaign_at_its_solves(few_networks):
    work = few_networks["proof of work"]
    assert work.campaign_counted == 40  # 20 solves an hour for two hours
    assert work.rating <= 0.3 * few_networks["none"].rating and work.honest_lost == 0


def test_a_campaign_from_many_networks_beats_flags_and_budgets_but_not_the_work():
    spread = Campaign(subnets=300)  # one visitor per /24: nothing to pool, no subnet over budget
    shifts = by_name(simulate(HONEST, spread, TABLE, seed=0))
    assert shifts["flags"].rating >= 0.9 * shifts["none"].rating
    assert shifts["budgets"].rating >= 0.9 * shifts["none"].rating
    assert shifts["proof of work"].rating <= 0.3 * shifts["none"].rating


def test_a_patient_campaign_outlasts_the_budgets_but_not_the_flags():
    patient = Campaign(hours=24 * 7)
    shifts = by_name(simulate(HONEST, patient, {k: TABLE[k] for k in ("none", "flags", "budgets")}, seed=0))
    assert shifts["budgets"].campaign_counted == 300
    assert shifts["flags"].campaign_counted == 0


def test_the_simulation_is_seeded_and_refuses_an_unknown_target():
    small = Honest(votes=1500)
    first = simulate(small, Campaign(votes=100), {"none": Defences()}, seed=3)
    assert first == simulate(small, Campaign(votes=100), {"none": Defences()}, seed=3)
    with pytest.raises(ValueError, match="not one of the arena's models"):
        simulate(small, Campaign(target="nobody"), {"none": Defences()})


def test_a_fan_of_a_middling_model_is_caught_by_the_favourite_test_alone():
    rng = np.random.default_rng(5)
    votes = population(600, seed=6)
    for k in range(30):  # always for m2, a middling model, on whichever side it stands
        rival = [m for m in MODELS if m != "m2"][k % 5]
        a, b = ("m2", rival) if k % 2 else (rival, "m2")
        votes.append({"visitor": "fan-of-m2", "model_a": a, "model_b": b, "outcome": "a" if k % 2 else "b",
                      "seconds": 11.0})
    assert "fan-of-m2" not in flag_visitors(votes)  # each vote only a mild upset
    found = flag_favourites(votes)
    assert list(found) == ["fan-of-m2"]
    assert found["fan-of-m2"][0].startswith("favourite: m2 scored +")
    assert not flag_favourites(population(1500, seed=7))  # honest visitors, 20 votes each: none
    assert not flag_favourites([honest_vote("v", rng)]) and flag_favourites([]) == {}


def test_one_vote_visitors_are_judged_together_by_subnet():
    rng = np.random.default_rng(8)
    votes = population(400, seed=9)
    nets = rng.integers(0, 40, 400)
    for v in votes:  # forty busy honest subnets, ten visitors each
        v["address"] = f"10.1.{nets[int(v['visitor'][1:])]}.{int(v['visitor'][1:]) % 250 + 1}"
    for k in range(40):  # forty made-up visitors, one vote each for m1, from one /24
        rival = MODELS[2 + k % 4]
        a, b = ("m1", rival) if k % 2 else (rival, "m1")
        votes.append({"visitor": f"sock-{k}", "address": f"192.0.2.{k + 1}", "model_a": a, "model_b": b,
                      "outcome": "a" if k % 2 else "b", "seconds": 9.0})
    assert not any(v.startswith("sock") for v in flag_visitors(votes) | flag_favourites(votes))
    found = flag_subnets(votes)
    assert set(found) == {f"sock-{k}" for k in range(40)}
    assert found["sock-0"][0].startswith("subnet 192.0.2.0/24: ")


def test_ratings_are_published_with_and_without_flagged_votes():
    rng = np.random.default_rng(10)
    votes = []
    for k in range(1200):
        i, j = rng.choice(4, 2, replace=False)
        p = 1 / (1 + np.exp(0.5 * (j - i)))
        votes.append(VoteRecord(f"h{k}", f"m{i}", f"m{j}", "a" if rng.random() < p else "b"))
    rigged = [VoteRecord(f"r{k}", "m0", f"m{1 + k % 3}", "a", flagged=True) for k in range(150)]
    hidden = [VoteRecord(f"x{k}", "m3", "m0", "a", reveals_identity=True) for k in range(50)]
    effects = {e.model: e for e in flag_effects(votes + rigged + hidden)}
    assert [e.model for e in effects.values()] == ["m0", "m1", "m2", "m3"]
    counted = {r.model: r.rating for r in compute_leaderboard(votes).rows}
    for m, e in effects.items():
        assert e.counted == pytest.approx(counted[m])  # the published board: flagged and revealing votes out
    assert effects["m0"].flagged == 150 and effects["m1"].flagged == 50
    assert effects["m0"].shift > 50 and effects["m0"].shift == effects["m0"].with_flagged - effects["m0"].counted
    assert all(e.shift < 0 for m, e in effects.items() if m != "m0")
    only_flagged = flag_effects(votes + [VoteRecord("z", "m0", "new", "b", flagged=True)])
    new = next(e for e in only_flagged if e.model == "new")
    assert math.isnan(new.counted) and math.isnan(new.with_flagged) and new.flagged == 1  # never lost: no rating
    assert flag_effects([]) == []
