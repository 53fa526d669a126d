"""Honest-vote tests: honest visitors are rarely flagged; one-sided, contrarian and hasty visitors are."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dokja.arena.honesty import (RULES_EN, RULES_KO, PromptFlood, fisher, flag_visitors, normalise_prompt,
                                 pair_history, prompt_flood, same_side_pvalue, same_side_rate, too_fast, vote_pvalues)

MODELS = ["m0", "m1", "m2", "m3", "m4", "m5"]
THETA = np.linspace(-1.2, 1.2, len(MODELS))
TIE = 0.15


def honest_votes(visitors: list[str], rng) -> list[dict]:
    """One vote per entry of ``visitors``, drawn from the true strengths; reading takes about 12 s."""
    n = len(visitors)
    i = rng.integers(0, len(MODELS), n)
    j = (i + rng.integers(1, len(MODELS), n)) % len(MODELS)
    p = 1 / (1 + np.exp(THETA[j] - THETA[i]))
    u = rng.random(n)
    outcome = np.where(u < p * (1 - TIE), "a", np.where(u < 1 - TIE, "b", "tie"))
    seconds = rng.lognormal(np.log(12.0), 0.6, n)
    return [{"visitor": v, "model_a": MODELS[a], "model_b": MODELS[b], "outcome": str(o), "seconds": float(s)}
            for v, a, b, o, s in zip(visitors, i, j, outcome, seconds)]


def honest_vote(visitor, rng) -> dict:
    return honest_votes([visitor], rng)[0]


def population(visitors=1500, votes=20, seed=0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return honest_votes([f"v{k}" for k in range(visitors) for _ in range(votes)], rng)


ALPHA = 1e-3


def test_honest_population_is_rarely_flagged():
    votes = population()
    flags = flag_visitors(votes, alpha=ALPHA)
    rate = len(flags) / 1500
    # three tests at 0.1% each: at most about 0.3% of honest visitors; measured 0 of 1,500 with this seed
    assert rate <= 3 * ALPHA + 0.002, flags


def test_one_sided_contrarian_and_hasty_visitors_are_flagged():
    rng = np.random.default_rng(1)
    votes = population(600, seed=2)
    for k in range(25):  # always the left-hand answer
        v = honest_vote("always-a", rng)
        votes.append(v | {"outcome": "a"})
    for k in range(25):  # always for the weakest model, against everyone's judgement, on alternating sides
        rival = MODELS[1 + k % 5]
        pair = ("m0", rival) if k % 2 else (rival, "m0")
        votes.append({"visitor": "fan-of-m0", "model_a": pair[0], "model_b": pair[1],
                      "outcome": "a" if k % 2 else "b", "seconds": 10.0})
    for k in range(25):  # honest-looking choices, cast before the answers could be read
        votes.append(honest_vote("hasty", rng) | {"seconds": float(rng.uniform(0.2, 1.5))})
    flags = flag_visitors(votes, alpha=ALPHA)
    assert any(r.startswith("same side") for r in flags["always-a"])
    assert any(r.startswith("history") for r in flags["fan-of-m0"])
    assert not any(r.startswith("same side") for r in flags["fan-of-m0"])  # it alternated sides
    assert [r.split(":")[0] for r in flags["hasty"]] == ["too fast"]
    assert len(flags) <= 3 + 2  # the three, and at most a couple of honest visitors among 600


def test_few_votes_are_not_judged():
    suspicious = [{"visitor": "new", "model_a": "m5", "model_b": "m0", "outcome": "b", "seconds": 0.1}] * 9
    assert "new" not in flag_visitors(suspicious + population(100, seed=3), min_votes=10)
    assert "new" in flag_visitors(suspicious + population(100, seed=3), min_votes=9)


def test_vote_pvalues_follow_history():
    history = pair_history([{"model_a": "x", "model_b": "y", "outcome": "a"}] * 80
                           + [{"model_a": "y", "model_b": "x", "outcome": "a"}] * 10
                           + [{"model_a": "x", "model_b": "y", "outcome": "tie"}] * 10)
    np.testing.assert_array_equal(history[("x", "y")], [80, 10, 10])
    expected, surprising, tie = vote_pvalues(
        [{"model_a": "x", "model_b": "y", "outcome": "a"}, {"model_a": "x", "model_b": "y", "outcome": "b"},
         {"model_a": "y", "model_b": "x", "outcome": "both_bad"}], history)
    assert expected == pytest.approx(1.0)  # the usual winner won: no surprise
    assert surprising == pytest.approx(11 / 103)  # the upset: (10 + 1) of (100 + 3)
    assert tie == pytest.approx(22 / 103)  # a tie, or the upset
    even = {("x", "y"): [30, 30, 5]}
    assert vote_pvalues([{"model_a": "x", "model_b": "y", "outcome": "b"}], even) == [1.0]
    assert vote_pvalues([{"model_a": "p", "model_b": "q", "outcome": "a"}], history) == [1.0]


def test_flags_agree_with_the_single_visitor_tests():
    votes = population(200, votes=12, seed=4)
    everyone = pair_history(votes)
    loose = flag_visitors(votes, alpha=0.2, min_seconds=0.0)
    for visitor in [f"v{k}" for k in range(200)]:
        own = [v for v in votes if v["visitor"] == visitor]
        mine = pair_history(own)
        p = fisher(vote_pvalues(own, {pair: everyone[pair] - c for pair, c in mine.items()}))
        side = same_side_pvalue([v["outcome"] for v in own])
        reasons = [r.split(":")[0] for r in loose.get(visitor, [])]
        assert ("history" in reasons) == (p < 0.2) and ("same side" in reasons) == (side < 0.2)


def test_fisher_and_side_tests_match_scipy():
    p = [0.01, 0.3, 0.5, 0.04]
    assert fisher(p) == pytest.approx(stats.combine_pvalues(p, method="fisher").pvalue, rel=1e-12)
    assert fisher([]) == 1.0
    outcomes = ["a"] * 14 + ["b"] * 3 + ["tie"] * 5
    assert same_side_pvalue(outcomes) == pytest.approx(stats.binomtest(14, 17).pvalue, rel=1e-12)
    assert same_side_rate(outcomes) == pytest.approx(14 / 17)
    assert too_fast([1, 2, 10, 20], min_seconds=3) and not too_fast([1, 5, 10, 20], min_seconds=3)


def test_prompt_floods_are_detected_whatever_the_spelling():
    assert normalise_prompt("  Hello,   WORLD!! ") == normalise_prompt("hello world") == "hello world"
    watch = PromptFlood(window_s=60, limit=3)
    spellings = ["서울의 인구는?", "서울의  인구는", "서울의 인구는?!", "서울의 인구는??"]
    assert [watch.add(p, t) for t, p in enumerate(spellings)] == [False, False, False, True]
    assert watch.add("다른 질문", 4) is False
    assert watch.add("서울의 인구는", 100) is False  # the window has passed
    assert prompt_flood([(t * 10.0, "same") for t in range(5)], window_s=60, limit=4)
    assert not prompt_flood([(t * 30.0, "same") for t in range(5)], window_s=60, limit=4)


def test_the_rule_is_stated_in_both_languages():
    assert "0.1%" in RULES_EN and "0.1%" in RULES_KO and "10" in RULES_EN and "10" in RULES_KO
    assert "투표" in RULES_KO and "flag" in RULES_EN
