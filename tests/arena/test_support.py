"""What the votes support: parts that never met, models without a finite rating, honest intervals on
little data, the published ridge convention, bootstrap rounds, and points that respect uncertainty."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.optimize import minimize
from typer.testing import CliRunner

from dokja.arena import (SCALE, ArenaError, VoteRecord, aggregate, bootstrap, compute_leaderboard, leaderboard_json,
                         write_votes)
from dokja.arena.bounds import THIN, exact_lower
from dokja.arena.leaderboard import Leaderboard, Row
from dokja.arena.pairing import pair_probabilities
from dokja.arena.points import credited_ratings, leaderboard_for_stage, model_points
from dokja.arena.support import ABOVE, BELOW, EITHER, parts, support
from dokja.cli.app import app
from dokja.programme.schema import Arena

MODELS = ["hanbit-ko-1.0", "saebyeok-ko-0.3", "mirae-135m-ko", "dasan-90m", "Gemma 3 270M"]


def synthetic_votes(n: int, seed: int, theta=None) -> list[VoteRecord]:
    """Votes drawn from Bradley–Terry strengths, a fifth of them ties, with style features."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(-0.8, 0.8, len(MODELS)) if theta is None else theta
    out = []
    for k in range(n):
        i, j = rng.choice(len(MODELS), 2, replace=False)
        p, u = 1 / (1 + np.exp(theta[j] - theta[i])), rng.random()
        outcome = "a" if u < 0.8 * p else "b" if u < 0.8 else "tie"
        out.append(VoteRecord(f"v{k:05d}", MODELS[i], MODELS[j], outcome, len_a=int(rng.integers(20, 900)),
                              len_b=int(rng.integers(20, 900)), md_a=int(rng.integers(0, 8)),
                              md_b=int(rng.integers(0, 8))))
    return out


def by_model(lb) -> dict[str, Row]:
    return {r.model: r for r in lb.rows}


def votes_of(*spec) -> list[VoteRecord]:
    """Votes from (model_a, model_b, outcome, count) tuples."""
    out = []
    for a, b, outcome, count in spec:
        out += [VoteRecord(f"{a}-{b}-{outcome}-{k}", a, b, outcome) for k in range(count)]
    return out


def overlap(x: Row, y: Row) -> bool:
    return x.lower <= y.upper and y.lower <= x.upper


# ---------------------------------------------------------------- 1. parts that never met


def test_parts_that_never_met_are_never_ranked_together():
    left = votes_of(("a", "b", "a", 30), ("a", "b", "b", 10))
    right = votes_of(("c", "d", "a", 12), ("c", "d", "b", 28), ("d", "e", "tie", 5), ("c", "e", "b", 9))
    with pytest.raises(ArenaError) as refused:
        compute_leaderboard(left + right, parts="refuse")
    message = str(refused.value)
    assert message == ("arena votes form 2 disconnected groups that never met: {c, d, e} and {a, b}; "
                       "ratings across them are undefined") and "\n" not in message
    lb = compute_leaderboard(left + right)  # the default rates each part on its own
    part = {r.model: r.part for r in lb.rows}
    assert part == {"c": 1, "d": 1, "e": 1, "a": 2, "b": 2}
    assert [p["models"] for p in lb.params["parts"]] == [["c", "d", "e"], ["a", "b"]]
    for number, alone in ((1, right), (2, left)):
        mine = [dataclasses.replace(r, part=1) for r in lb.rows if r.part == number]
        assert mine == compute_leaderboard(alone).rows  # ratings, intervals and ranks: as if the other did not exist
    assert [r.rank for r in lb.rows if r.part == 2] == [1, 2]
    with pytest.raises(ArenaError, match="one connected leaderboard"):
        model_points(lb, mapping=Arena())
    with pytest.raises(ArenaError, match="2 disconnected groups"):
        leaderboard_for_stage(left + right, Arena())
    three = votes_of(("a", "b", "a", 2), ("c", "d", "a", 2), ("e", "f", "tie", 1))
    with pytest.raises(ArenaError, match=r"3 disconnected groups that never met: \{a, b\}, \{c, d\} and \{e, f\}"):
        compute_leaderboard(three, parts="refuse")
    with pytest.raises(ArenaError, match="parts must be"):
        compute_leaderboard(left, parts="merge")


def test_parts_of_the_vote_graph():
    cells = aggregate([0, 2, 3], [1, 3, 4], [0, 1, 2], n_models=6)  # model 5 has no vote at all
    assert [g.tolist() for g in parts(cells)] == [[2, 3, 4], [0, 1], [5]]


# ---------------------------------------------------------------- 2. no losses, or no wins


def with_newcomers(n=3000):
    base = synthetic_votes(n, seed=21)
    extra = votes_of(("nova", MODELS[0], "a", 4), (MODELS[2], "nova", "b", 3),  # nova never lost
                     ("dud", MODELS[4], "b", 5),  # dud never won
                     ("stray", "nova", "b", 2))  # stray only ever lost to nova: it may lie on either side
    return base, base + extra


def test_models_that_never_lost_or_never_won_get_no_finite_rating():
    base, votes = with_newcomers()
    lb = compute_leaderboard(votes)
    rows = by_model(lb)
    nova, dud, stray = rows["nova"], rows["dud"], rows["stray"]
    assert (nova.unbounded, dud.unbounded, stray.unbounded) == (ABOVE, BELOW, EITHER)
    assert nova.rating == math.inf and nova.upper == math.inf and math.isfinite(nova.lower)
    assert dud.rating == -math.inf and dud.lower == -math.inf and math.isfinite(dud.upper)
    assert math.isnan(stray.rating) and (stray.lower, stray.upper) == (-math.inf, math.inf)
    assert lb.rows[0].model == "nova" and nova.rank == 1  # unbeaten ranks first
    assert all(r.unbounded is None for r in lb.rows if r.model in MODELS)
    assert sorted(lb.params["reference"]) == sorted(MODELS)
    # the rated models are rated on their own votes: the newcomers' sweeps do not move them
    alone = by_model(compute_leaderboard(base))
    for m in MODELS:
        assert rows[m].rating == pytest.approx(alone[m].rating, abs=1e-9)
        assert rows[m].lower == pytest.approx(alone[m].lower, abs=1e-9)
    # the JSON stays strict: no Infinity, no NaN; `unbounded` says which side is open
    text = json.dumps(leaderboard_json(lb), allow_nan=False)
    row = next(r for r in json.loads(text)["rows"] if r["model"] == "nova")
    assert row["rating"] is None and row["upper"] is None and row["lower"] == nova.lower


def test_the_lower_bound_of_an_unbeaten_model_is_exact():
    votes = synthetic_votes(3000, seed=22) + votes_of(("nova", MODELS[1], "a", 3))
    rows = by_model(compute_leaderboard(votes))
    q = 0.025  # (1 − level) / 2
    # three wins against one opponent: σ((θ − lower_opp) / SCALE)³ = q
    expect = rows[MODELS[1]].lower + SCALE * math.log(q ** (1 / 3) / (1 - q ** (1 / 3)))
    assert rows["nova"].lower == pytest.approx(expect, abs=1e-6)
    assert exact_lower([1000.0], [1.0], q) == pytest.approx(1000 + SCALE * math.log(q / (1 - q)), abs=1e-6)
    # more wins, a higher bound; a winless model mirrors it
    more = by_model(compute_leaderboard(votes + votes_of(("nova", MODELS[1], "a", 9))))
    assert more["nova"].lower > rows["nova"].lower + 100
    flipped = by_model(compute_leaderboard(synthetic_votes(3000, seed=22) + votes_of(("dud", MODELS[1], "b", 3))))
    expect = flipped[MODELS[1]].upper - SCALE * math.log(q ** (1 / 3) / (1 - q ** (1 / 3)))
    assert flipped["dud"].upper == pytest.approx(expect, abs=1e-6)


@pytest.mark.parametrize("options", [dict(ties="davidson"), dict(interval="bootstrap", rounds=200),
                                     dict(style=True), dict(anchor=MODELS[3])])
def test_unbounded_models_under_every_option(options):
    _, votes = with_newcomers(2000)
    rows = by_model(compute_leaderboard(votes, **options))
    assert rows["nova"].unbounded == ABOVE and rows["nova"].rating == math.inf and rows["nova"].rank == 1
    assert rows["dud"].unbounded == BELOW and math.isfinite(rows["dud"].upper)
    assert all(math.isfinite(rows[m].rating) and rows[m].lower < rows[m].upper for m in MODELS)


def test_an_unbeaten_group_is_bounded_as_a_group():
    """Two newcomers that split their games but never lost to anyone else: both above, the weaker lower."""
    votes = synthetic_votes(2000, seed=23) + votes_of(("p", "q", "a", 6), ("p", "q", "b", 2), ("q", MODELS[0], "a", 5))
    rows = by_model(compute_leaderboard(votes))
    assert rows["p"].unbounded == rows["q"].unbounded == ABOVE
    assert rows["p"].lower > rows["q"].lower and rows["p"].rank == rows["q"].rank == 1
    sup = support(aggregate([0, 1, 1], [1, 2, 2], [0, 0, 1]), anchor=None)
    assert sup.side == (ABOVE, None, None) and sup.reference.tolist() == [1, 2]


def test_pairing_copes_with_unbounded_rows():
    _, votes = with_newcomers(1500)
    lb = compute_leaderboard(votes)
    probs = pair_probabilities([r.model for r in lb.rows], lb)
    assert all(math.isfinite(p) and p > 0 for p in probs.values()) and sum(probs.values()) == pytest.approx(1.0)


# ---------------------------------------------------------------- 3. bootstrap rounds


@pytest.mark.parametrize("rounds", [0, 1, -5])
def test_fewer_than_two_bootstrap_rounds_are_refused(tmp_path, rounds):
    votes = synthetic_votes(300, seed=24)
    with pytest.raises(ArenaError, match=f"bootstrap rounds must be at least 2, not {rounds}"):
        compute_leaderboard(votes, interval="bootstrap", rounds=rounds)
    cells = aggregate([0, 1, 2, 0], [1, 2, 0, 2], [0, 0, 0, 1])
    with pytest.raises(ArenaError, match="at least 2"):
        bootstrap(cells, rounds=rounds)
    path = tmp_path / "votes.csv"
    write_votes(votes, path)
    result = CliRunner().invoke(app, ["votes", "recompute", str(path), "--interval", "bootstrap", "--rounds",
                                      str(rounds)])
    assert result.exit_code == 2 and "bootstrap rounds must be at least 2" in result.output
    assert "Traceback" not in result.output
    assert compute_leaderboard(votes, interval="bootstrap", rounds=2).rows  # two rounds are enough to run


# ---------------------------------------------------------------- 4. the published ridge convention


def notebook_ratings(votes, c=1.0):
    """The published arena notebook's compute_mle_elo, rebuilt: a pivot-table design over both orders of every
    pair (a decisive vote two wins, a tie one each way), features ±ln 10, L2-penalised logistic regression
    without intercept (sklearn's objective ½‖β‖² + C Σ w·logloss), minimised here by scipy."""
    models = sorted({v.model_a for v in votes} | {v.model_b for v in votes})
    ix = {m: k for k, m in enumerate(models)}
    p = len(models)
    a_win, b_win, tie = np.zeros((p, p)), np.zeros((p, p)), np.zeros((p, p))
    for v in votes:
        i, j = ix[v.model_a], ix[v.model_b]
        {"a": a_win, "b": b_win}.get(v.outcome, tie)[i, j] += 1
    win = 2 * a_win + 2 * b_win.T + tie + tie.T
    x, y, w = [], [], []
    for i in range(p):
        for j in range(p):
            if i != j:
                row = np.zeros(p)
                row[i], row[j] = math.log(10), -math.log(10)
                x += [row, row]
                y += [1.0, 0.0]
                w += [win[i, j], win[j, i]]
    x, y, w = np.array(x), np.array(y), np.array(w)

    def objective(beta):
        z = x @ beta
        loss = (w * (np.logaddexp(0.0, z) - y * z)).sum()
        grad = x.T @ (w * (1 / (1 + np.exp(-z)) - y))
        return 0.5 * beta @ beta + c * loss, beta + c * grad

    beta = minimize(objective, np.zeros(p), jac=True, method="BFGS", options={"gtol": 1e-11}).x
    return dict(zip(models, 400 * beta + 1000))


def test_arena_ridge_reproduces_the_published_notebook():
    votes = synthetic_votes(20, seed=25)  # few votes, so the penalty matters
    ridge = by_model(compute_leaderboard(votes, convention="arena-ridge"))
    reference = notebook_ratings(votes)
    assert max(abs(ridge[m].rating - reference[m]) for m in reference) < 1e-5
    mle = by_model(compute_leaderboard(votes))
    assert max(abs(ridge[m].rating - mle[m].rating) for m in reference) > 5  # it is not the MLE
    # a model that never lost: the ridge gives it a finite rating, but no false certainty
    swept = votes + votes_of(("nova", MODELS[0], "a", 3))
    rows = by_model(compute_leaderboard(swept, convention="arena-ridge"))
    assert abs(rows["nova"].rating - notebook_ratings(swept)["nova"]) < 1e-5
    assert rows["nova"].unbounded == ABOVE and rows["nova"].upper == math.inf and rows["nova"].rank == 1
    assert compute_leaderboard(votes, convention="arena-ridge").params["convention"] == "arena-ridge"
    with pytest.raises(ArenaError, match="arena-ridge"):
        compute_leaderboard(votes, convention="arena-ridge", ties="davidson")
    with pytest.raises(ArenaError, match="convention must be"):
        compute_leaderboard(votes, convention="lmsys")
    from pydantic import ValidationError

    assert Arena(convention="arena-ridge").convention == "arena-ridge" and Arena().convention == "mle"
    with pytest.raises(ValidationError, match="arena-ridge"):
        Arena(convention="arena-ridge", style=True)
    staged = by_model(leaderboard_for_stage(votes, Arena(convention="arena-ridge")))
    assert staged["dasan-90m"].rating == ridge["dasan-90m"].rating


# ---------------------------------------------------------------- 5. honest intervals on little data


@pytest.mark.parametrize("spec", [
    [("A", "B", "a", 1)], [("A", "B", "b", 1)], [("A", "B", "tie", 1)],
    [("A", "B", "a", 3)], [("A", "B", "a", 2), ("A", "B", "b", 1)], [("A", "B", "a", 2), ("A", "B", "tie", 1)],
    [("A", "B", "a", 1), ("A", "B", "tie", 2)], [("A", "B", "tie", 3)],
])
@pytest.mark.parametrize("options", [dict(), dict(interval="bootstrap", rounds=200), dict(convention="arena-ridge"),
                                     dict(anchor="B")])
def test_a_few_votes_never_separate_two_models(spec, options):
    lb = compute_leaderboard(votes_of(*spec), **options)
    a, b = lb.rows
    assert overlap(a, b) and a.rank == b.rank == 1
    finite = [r for r in lb.rows if r.unbounded is None]
    assert len(finite) < 2 or all(r.upper - r.lower > 200 for r in finite)  # no false certainty either


def test_a_lone_tie_is_not_certain_and_big_data_is_unchanged():
    from dokja.arena import fit, sandwich

    tie = by_model(compute_leaderboard(votes_of(("A", "B", "tie", 1))))
    assert tie["A"].upper - tie["A"].lower > 500  # the sandwich alone would say 0
    votes = synthetic_votes(3000, seed=26)
    lb = by_model(compute_leaderboard(votes))
    models = sorted(MODELS)
    index = {m: k for k, m in enumerate(models)}
    cells = aggregate([index[v.model_a] for v in votes], [index[v.model_b] for v in votes],
                      [("a", "b", "tie", "both_bad").index(v.outcome) for v in votes])
    ci = sandwich(cells, fit(cells))
    shift = 1000 - ci.rating.mean()
    for m in models:  # every model has hundreds of votes (> THIN): exactly the plain sandwich
        assert lb[m].lower == pytest.approx(ci.lower[index[m]] + shift, abs=1e-9)
        assert lb[m].votes > THIN


# ---------------------------------------------------------------- 6. points that respect uncertainty


def board(spec) -> Leaderboard:
    """spec: model → (rating, lower, upper, rank[, unbounded])."""
    rows = [Row(m, r, lo, hi, rank, 100, 0, 0, 0, *rest) for m, (r, lo, hi, rank, *rest) in spec.items()]
    return Leaderboard("half", "sandwich", "mean", rows)


TIED = board({"a": (1100, 900, 1300, 1), "b": (1000, 800, 1200, 1), "c": (900, 700, 1100, 1)})
TIERS = board({"a": (1200, 1190, 1210, 1), "b": (1150, 1140, 1205, 1), "c": (1000, 990, 1010, 3),
               "d": (980, 970, 995, 3), "e": (800, 790, 810, 5)})
OPEN = board({"nova": (math.inf, 1050, math.inf, 1, "above"), "a": (1100, 1060, 1140, 1),
              "b": (900, 880, 920, 3), "dud": (-math.inf, -math.inf, 700, 4, "below")})


@pytest.mark.parametrize("lb, credited", [
    (TIED, {"a": 1100, "b": 1100, "c": 1100}),
    (TIERS, {"a": 1200, "b": 1200, "c": 1000, "d": 1000, "e": 800}),
    (OPEN, {"nova": 1100, "a": 1100, "b": 900, "dud": 700}),
])
def test_credited_ratings_golden(lb, credited):
    assert credited_ratings(lb.rows) == credited


@pytest.mark.parametrize("lb, mapping, points", [
    (TIED, Arena(), {"a": 25, "b": 25, "c": 25}),
    (TIED, Arena(points="rank"), {"a": 25, "b": 25, "c": 25}),
    (TIED, Arena(points="win_rate", reference="b"), {"a": 25, "b": 25, "c": 25}),
    (TIERS, Arena(), {"a": 25, "b": 25, "c": 12.5, "d": 12.5, "e": 0}),
    (TIERS, Arena(points="rank"), {"a": 25, "b": 25, "c": 12.5, "d": 12.5, "e": 0}),
    (TIERS, Arena(floor=400.0), {"a": 25, "b": 25, "c": 18.75, "d": 18.75, "e": 12.5}),
    (OPEN, Arena(), {"nova": 25, "a": 25, "b": 0, "dud": 0}),
    (OPEN, Arena(floor="dud"), {"nova": 25, "a": 25, "b": 12.5, "dud": 0}),
])
def test_points_by_tier_golden(lb, mapping, points):
    assert model_points(lb, mapping=mapping, total=25) == pytest.approx(points)


def test_points_tell_apart_only_what_the_arena_can():
    theta = np.array([-1.5, -0.75, 0.0, 0.75, 1.5])
    many = compute_leaderboard(synthetic_votes(6000, seed=27, theta=theta))
    assert sorted(r.rank for r in many.rows) == [1, 2, 3, 4, 5]
    points = model_points(many, mapping=Arena(), total=25)
    ordered = [points[r.model] for r in many.rows]
    assert ordered[0] == 25 and ordered[-1] == 0 and all(x - y > 3 for x, y in zip(ordered, ordered[1:]))
    few = compute_leaderboard(synthetic_votes(12, seed=27, theta=theta))
    tops = [r.model for r in few.rows if r.rank == 1]
    few_points = model_points(few, mapping=Arena(), total=25)
    assert len(tops) >= 2 and {few_points[m] for m in tops} == {25.0}
