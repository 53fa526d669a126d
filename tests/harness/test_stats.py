import math

import numpy as np
import pytest

from dokja.harness.stats import (
    ci_bootstrap,
    compare,
    mcnemar,
    paired_bootstrap,
    stderr_bootstrap,
    stderr_closed,
)


def pairs(b01, b10, both=0, neither=0):
    a = [0] * b01 + [1] * b10 + [1] * both + [0] * neither
    b = [1] * b01 + [0] * b10 + [1] * both + [0] * neither
    return a, b


def test_stderr_closed_by_hand():
    assert stderr_closed([1, 2, 3, 4]) == pytest.approx(math.sqrt(5 / 3) / 2)
    # 0/1 data: sqrt(p(1-p)/(n-1))
    v = [1] * 30 + [0] * 70
    assert stderr_closed(v) == pytest.approx(math.sqrt(0.3 * 0.7 / 99))
    assert math.isnan(stderr_closed([1.0]))
    assert math.isnan(stderr_closed([]))


def test_bootstrap_se_close_to_closed_form():
    rng = np.random.default_rng(1)
    v = (rng.random(20000) < 0.37).astype(float)
    closed = stderr_closed(v)
    assert stderr_bootstrap(v, rounds=4000, seed=0) == pytest.approx(closed, rel=0.05)
    cont = rng.normal(size=3000)
    assert stderr_bootstrap(cont, rounds=2000, seed=0) == pytest.approx(stderr_closed(cont), rel=0.07)


def test_bootstrap_deterministic_and_seeded():
    v = np.random.default_rng(2).normal(size=500)
    assert stderr_bootstrap(v, seed=3) == stderr_bootstrap(v, seed=3)
    assert stderr_bootstrap(v, seed=3) != stderr_bootstrap(v, seed=4)
    assert ci_bootstrap(v, seed=5) == ci_bootstrap(list(v), seed=5)
    assert paired_bootstrap(v, v[::-1], seed=1) == paired_bootstrap(v, v[::-1], seed=1)


def test_ci_bootstrap_covers_mean():
    rng = np.random.default_rng(3)
    v = (rng.random(5000) < 0.6).astype(float)
    low, high = ci_bootstrap(v, level=0.95, rounds=2000, seed=0)
    se = stderr_closed(v)
    assert low < v.mean() < high
    assert high - low == pytest.approx(2 * 1.96 * se, rel=0.1)
    narrow = ci_bootstrap(v, level=0.5, rounds=2000, seed=0)
    assert low < narrow[0] < narrow[1] < high
    assert ci_bootstrap([1, 1, 1], seed=0) == (1.0, 1.0)


def test_paired_bootstrap_detects_real_gap_not_null():
    rng = np.random.default_rng(4)
    base = rng.normal(size=400)
    better = base + 0.3 + rng.normal(scale=0.5, size=400)
    real = paired_bootstrap(better, base, rounds=5000, seed=0)
    assert real["diff"] > 0 and real["ci_low"] > 0
    assert real["p_value"] == pytest.approx(1 / 5000)  # floored
    assert real["stderr"] == pytest.approx(np.std(better - base, ddof=1) / 20, rel=0.1)

    noise = base + rng.normal(scale=0.5, size=400)
    null = paired_bootstrap(noise, base, rounds=5000, seed=0)
    assert null["ci_low"] < 0 < null["ci_high"] or abs(null["diff"]) < 0.05
    assert null["p_value"] > 0.05


def test_paired_bootstrap_edges():
    same = paired_bootstrap([1, 2, 3], [1, 2, 3], rounds=100)
    assert same["diff"] == 0 and same["p_value"] == 1.0 and same["stderr"] == 0.0
    with pytest.raises(ValueError, match="length"):
        paired_bootstrap([1, 2], [1, 2, 3])
    with pytest.raises(ValueError):
        paired_bootstrap([], [])
    with pytest.raises(ValueError):
        paired_bootstrap([1.0, float("nan")], [1.0, 1.0])


def test_mcnemar_by_hand():
    a, b = pairs(10, 2, both=50, neither=20)
    r = mcnemar(a, b)
    assert (r["b01"], r["b10"], r["n"]) == (10, 2, 82)
    assert r["p_value"] == pytest.approx(2 * 79 / 4096)  # ≈ 0.0386
    assert r["statistic"] == pytest.approx(49 / 12)
    assert r["p_value_chi2"] == pytest.approx(0.04331, abs=1e-4)
    assert r["diff"] == pytest.approx(-8 / 82)


def test_mcnemar_no_discordant_and_errors():
    r = mcnemar([1, 0, 1], [1, 0, 1])
    assert (r["b01"], r["b10"], r["p_value"], r["p_value_chi2"], r["statistic"]) == (0, 0, 1.0, 1.0, 0.0)
    assert mcnemar(*pairs(3, 3))["p_value"] == 1.0
    with pytest.raises(ValueError, match="length"):
        mcnemar([1, 0], [1])
    with pytest.raises(ValueError, match="0/1"):
        mcnemar([0.5, 1], [1, 0])


def test_compare_picks_method():
    a, b = pairs(10, 2, both=50)
    r = compare(a, b)
    assert r["method"] == "mcnemar" and r["significant"] is True
    assert compare(a, b, alpha=0.01)["significant"] is False
    assert compare(*pairs(3, 4))["significant"] is False

    rng = np.random.default_rng(5)
    x = rng.normal(size=300)
    r = compare(x + 0.5, x + rng.normal(scale=0.2, size=300), rounds=2000)
    assert r["method"] == "paired_bootstrap" and r["significant"] is True
    assert r["alpha"] == 0.05 and "ci_low" in r
    with pytest.raises(ValueError, match="length"):
        compare([1, 0, 1], [1, 0])
