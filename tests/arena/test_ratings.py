"""Arena ratings maths: cells, Bradley–Terry fits (half-win and Davidson), intervals and ranks."""

from __future__ import annotations

import numpy as np
import pytest

from dokja.arena import SCALE, Cells, aggregate, bootstrap, fit, ranks, sandwich, sandwich_cov
from dokja.arena import ratings as R
from dokja.arena.bootstrap import _chord


def davidson_probs(theta, nu, i, j):
    d = theta[i] - theta[j]
    big, small = np.exp(d / 2), np.exp(-d / 2)
    den = big + small + nu
    return np.column_stack([big / den, small / den, nu / den])


def davidson_cells(theta, nu, per_pair, rng) -> Cells:
    """Cells drawn straight from Davidson's model: ``per_pair`` battles for every pair."""
    i, j = np.triu_indices(len(theta), 1)
    counts = rng.multinomial(per_pair, davidson_probs(theta, nu, i, j)).astype(float)
    return Cells(len(theta), i, j, counts[:, 0], counts[:, 1], counts[:, 2])


def davidson_votes(theta, nu, votes, rng):
    a = rng.integers(0, len(theta), votes)
    b = (a + rng.integers(1, len(theta), votes)) % len(theta)
    p = davidson_probs(theta, nu, a, b).cumsum(1)
    outcome = (rng.random(votes)[:, None] > p[:, :2]).sum(1)
    return a, b, outcome


def centred(x):
    return x - x.mean()


def covers(ci, truth, joint=False):
    """Whether each interval (moved to the sum-to-zero frame) holds the centred true rating."""
    shift = ci.rating - centred(ci.rating)
    lo, hi = (ci.joint_lower, ci.joint_upper) if joint else (ci.lower, ci.upper)
    return (lo - shift <= truth) & (truth <= hi - shift)


# ---------------------------------------------------------------- cells


def test_aggregate_counts_each_pair_and_outcome():
    a = np.array([0, 1, 0, 2, 2, 1, 0, 1])
    b = np.array([1, 0, 1, 0, 1, 2, 2, 0])
    o = np.array([0, 0, 2, 1, 3, 1, 0, 3])
    cells = aggregate(a, b, o)
    assert cells.n_models == 3
    assert list(zip(cells.i, cells.j)) == [(0, 1), (0, 2), (1, 2)]
    # pair (0,1): 0 beats 1; 1 beats 0; tie; both bad (counted as a tie)
    np.testing.assert_array_equal(cells.counts, [[1, 1, 2], [2, 0, 0], [0, 1, 1]])
    dropped = aggregate(a, b, o, both_bad="drop")
    np.testing.assert_array_equal(dropped.counts, [[1, 1, 1], [2, 0, 0], [0, 1, 0]])
    assert aggregate(a, b, o, n_models=5).n_models == 5


def test_aggregate_matches_a_plain_loop_and_rejects_bad_votes():
    rng = np.random.default_rng(3)
    a, b, o = davidson_votes(rng.normal(size=7), 0.8, 5000, rng)
    o = np.where(rng.random(o.size) < 0.05, 3, o)
    w = rng.random(o.size)
    cells = aggregate(a, b, o, weight=w)
    expect, sq = {}, {}
    for x, y, z, v in zip(a, b, o, w):
        i, j = min(x, y), max(x, y)
        col = 2 if z >= 2 else (z if x < y else 1 - z)
        expect.setdefault((i, j), np.zeros(3))[col] += v
        sq.setdefault((i, j), np.zeros(3))[col] += v * v
    for k, (i, j) in enumerate(zip(cells.i, cells.j)):
        np.testing.assert_allclose(cells.counts[k], expect[(i, j)])
        np.testing.assert_allclose(cells.sq[k], sq[(i, j)])
    assert len(cells.i) == len(expect)
    with pytest.raises(ValueError, match="itself"):
        aggregate([0, 1], [0, 0], [0, 1])
    with pytest.raises(ValueError, match="outcome"):
        aggregate([0], [1], [4])
    with pytest.raises(ValueError, match="indices"):
        aggregate([0], [3], [0], n_models=3)


# ---------------------------------------------------------------- point fits


def test_half_win_equals_choix_mle():
    choix = pytest.importorskip("choix")
    rng = np.random.default_rng(7)
    theta = rng.normal(0, 0.7, 6)
    cells = davidson_cells(theta, 0.8, 40, rng)
    data = []  # a tie is one win each way, so every decisive win is doubled
    for i, j, wi, wj, t in zip(cells.i, cells.j, cells.wins_i, cells.wins_j, cells.ties):
        data += [(int(i), int(j))] * int(2 * wi + t) + [(int(j), int(i))] * int(2 * wj + t)
    ref = choix.ilsr_pairwise(6, data, alpha=0.0, tol=1e-13, max_iter=10_000)
    ours = fit(cells, ties="half")
    assert np.abs(centred(ours.theta) - centred(ref)).max() < 1e-6


def test_integer_weights_equal_duplicated_votes():
    rng = np.random.default_rng(11)
    a, b, o = davidson_votes(rng.normal(size=5), 1.0, 3000, rng)
    w = rng.integers(1, 4, o.size)
    weighted = aggregate(a, b, o, weight=w)
    duplicated = aggregate(np.repeat(a, w), np.repeat(b, w), np.repeat(o, w))
    np.testing.assert_allclose(weighted.counts, duplicated.counts)
    for ties in ("half", "davidson"):
        fw, fd = fit(weighted, ties=ties), fit(duplicated, ties=ties)
        np.testing.assert_allclose(fw.theta, fd.theta, atol=1e-10)
        # ...but a weighted vote is one observation: its sandwich SE must be the larger one
        assert np.all(sandwich(weighted, fw).se >= sandwich(duplicated, fd).se - 1e-12)
    # a constant weight changes nothing about the uncertainty
    doubled = aggregate(a, b, o, weight=np.full(o.size, 2.0))
    plain = aggregate(a, b, o)
    np.testing.assert_allclose(sandwich(doubled, fit(doubled)).se, sandwich(plain, fit(plain)).se, rtol=1e-9)
    ratio = bootstrap(doubled, rounds=400).se / bootstrap(plain, rounds=400).se
    assert 0.85 < np.median(ratio) < 1.15


def test_anchor_fixes_the_scale():
    rng = np.random.default_rng(5)
    cells = davidson_cells(rng.normal(size=6), 0.5, 60, rng)
    base = fit(cells)
    assert base.theta[0] == 0.0 and base.rating[0] == 1000.0
    moved = fit(cells, anchor=3, anchor_value=1200.0)
    assert moved.theta[3] == 0.0 and moved.rating[3] == 1200.0
    np.testing.assert_allclose(moved.rating, 1200.0 + SCALE * moved.theta)
    np.testing.assert_allclose(np.diff(moved.rating), np.diff(base.rating), atol=1e-8)
    np.testing.assert_allclose(SCALE, 400 / np.log(10))


def test_davidson_recovers_a_known_tie_parameter():
    rng = np.random.default_rng(2)
    theta, nu = rng.normal(0, 0.6, 8), 1.3
    cells = davidson_cells(theta, nu, 3000, rng)
    result = fit(cells, ties="davidson")
    ci = sandwich(cells, result)
    assert ci.nu_lower < nu < ci.nu_upper
    assert abs(result.nu - nu) / nu < 0.05
    assert np.abs(result.theta - (theta - theta[0])).max() < 0.05


def test_half_win_shrinks_the_scale_when_ties_are_frequent():
    rng = np.random.default_rng(4)
    theta, nu = np.linspace(-1, 1, 8), 1.0  # about a third of votes are ties
    cells = davidson_cells(theta, nu, 5000, rng)
    assert cells.ties.sum() / cells.total > 0.3
    half, dav = fit(cells, ties="half"), fit(cells, ties="davidson")
    slope = np.polyfit(centred(dav.theta), centred(half.theta), 1)[0]
    assert slope == pytest.approx(2 / (2 + nu), rel=0.05)  # ties pull half-win ratings to the middle
    assert np.ptp(half.theta) < 0.75 * np.ptp(theta) < np.ptp(dav.theta)


def test_no_mle_is_reported_and_ridge_recovers():
    cells = Cells(3, np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([5.0, 5.0, 3.0]),
                  np.array([0.0, 0.0, 2.0]), np.array([0.0, 0.0, 1.0]))  # model 0 never loses
    with pytest.raises(ValueError, match="MLE"):
        fit(cells)
    assert np.all(np.isfinite(fit(cells, alpha=0.1).theta))
    # a model with one win and one loss: some resamples lose one of them and are dropped
    rng = np.random.default_rng(0)
    cells = davidson_cells(np.zeros(4), 0.5, 30, rng)
    thin = Cells(5, np.append(cells.i, [0, 1]), np.append(cells.j, [4, 4]), np.append(cells.wins_i, [1.0, 0.0]),
                 np.append(cells.wins_j, [0.0, 1.0]), np.append(cells.ties, [0.0, 0.0]))
    ci = bootstrap(thin, rounds=200)
    assert 0 < ci.dropped < 200 and np.all(np.isfinite(ci.samples)) and len(ci.samples) == 200 - ci.dropped


# ---------------------------------------------------------------- intervals and ranks


@pytest.mark.parametrize("ties", ["half", "davidson"])
def test_sandwich_agrees_with_bootstrap(ties):
    rng = np.random.default_rng(9)
    cells = davidson_cells(rng.normal(0, 0.5, 8), 0.9, 300, rng)
    point = fit(cells, ties=ties)
    sw = sandwich(cells, point)
    bs = bootstrap(cells, rounds=600, seed=1, point=point)
    ratio = bs.se / sw.se
    assert 0.9 < np.median(ratio) < 1.1 and np.all((ratio > 0.8) & (ratio < 1.25))
    assert bs.samples.shape == (600, 8)
    if ties == "davidson":
        assert bs.nu_lower < point.nu < bs.nu_upper
    # anchored frame: the anchor is exact, the others are contrasts with it
    anchored = sandwich(cells, point, frame="anchored")
    assert anchored.se[0] == 0 and np.all(anchored.se[1:] > 0)
    np.testing.assert_allclose(anchored.se[1:] / SCALE, np.sqrt(np.diag(sandwich_cov(cells, point))[1:8]))


def test_bootstrap_is_reproducible_and_independent_of_workers():
    rng = np.random.default_rng(1)
    cells = davidson_cells(rng.normal(size=5), 0.7, 100, rng)
    one = bootstrap(cells, rounds=300, seed=3, batch=64)
    two = bootstrap(cells, rounds=300, seed=3, batch=64, workers=2)
    np.testing.assert_array_equal(one.samples, two.samples)
    multi = bootstrap(cells, rounds=300, seed=3, resample="multinomial")
    assert 0.8 < np.median(multi.se / one.se) < 1.25


def test_frozen_hessian_steps_reach_the_exact_mle():
    rng = np.random.default_rng(6)
    cells = davidson_cells(rng.normal(size=6), 1.0, 50, rng)  # small counts: a hard case for frozen steps
    for ties in ("half", "davidson"):
        point = fit(cells, ties=ties)
        counts = rng.poisson(cells.counts, size=(20, *cells.counts.shape)).astype(float)
        stats = R._stats(counts, ties)
        info = R._evaluate(R._stats(cells.counts[None], ties), point.params[None], ties, cells, 0, 0.0)[2][0]
        step = np.linalg.inv(info)
        step[0] = step[:, 0] = 0
        exact, _, done = R._newton(stats, np.repeat(point.params[None], 20, 0), ties, cells, 0, 0.0, 1e-12, 100)
        assert done.all()
        for tol, atol in ((1e-10, 1e-8), (1e-5, 1e-5)):  # 1e-5 is the bootstrap's default
            fast, ok = _chord(stats, point.params, step, ties, cells, 0, 0.0, tol, 200)
            assert ok.all()
            np.testing.assert_allclose(fast, exact, atol=atol)


def test_ranks_count_only_surely_better_models():
    lower = np.array([10.0, 9.0, 5.0, 0.0])
    upper = np.array([12.0, 11.0, 9.5, 1.0])
    np.testing.assert_array_equal(ranks(lower, upper), [1, 1, 2, 4])


def test_near_equal_models_share_a_rank():
    rng = np.random.default_rng(8)
    theta = np.array([1.0, 1.0, 1.01, 0.0, 0.005, -1.5])
    cells = davidson_cells(theta, 0.6, 400, rng)
    point = fit(cells)
    for ci in (sandwich(cells, point), bootstrap(cells, rounds=400, point=point)):
        np.testing.assert_array_equal(ranks(ci.joint_lower, ci.joint_upper), [1, 1, 1, 4, 4, 6])
        assert np.all(ci.joint_upper - ci.joint_lower > ci.upper - ci.lower)


def test_davidson_intervals_cover_true_strengths_with_frequent_ties():
    """300 simulated leaderboards, 10 models, ~36% ties: the Davidson intervals hold their level.

    The half-win intervals, centred on shrunken ratings, miss the same truth far more
    often: that is the reason to report the Davidson view when ties are common.
    """
    rng = np.random.default_rng(2024)
    theta, nu, sims = rng.normal(0, 0.5, 10), 1.2, 300
    truth = SCALE * centred(theta)
    marginal, joint, half_marginal, ties = [], [], [], []
    for s in range(sims):
        cells = davidson_cells(theta, nu, 60, rng)
        ties.append(cells.ties.sum() / cells.total)
        dav = fit(cells, ties="davidson")
        ci = sandwich(cells, dav)
        marginal.append(np.mean(covers(ci, truth)))
        joint.append(np.all(covers(ci, truth, joint=True)))
        if s < 40:
            half_marginal.append(np.mean(covers(sandwich(cells, fit(cells, ties="half")), truth)))
    assert np.mean(ties) > 0.3
    assert np.mean(marginal) >= 0.90
    assert np.mean(joint) >= 0.90
    assert np.mean(half_marginal) < 0.75


def test_davidson_bootstrap_intervals_cover_true_strengths():
    rng = np.random.default_rng(77)
    theta, nu = rng.normal(0, 0.5, 10), 1.2
    truth = SCALE * centred(theta)
    hits = []
    for _ in range(40):
        ci = bootstrap(davidson_cells(theta, nu, 60, rng), rounds=200, ties="davidson", seed=int(rng.integers(1 << 30)))
        hits.append(np.mean(covers(ci, truth)))
    assert np.mean(hits) >= 0.90
