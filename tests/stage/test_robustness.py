"""Bootstrap odds of a stage decision, with a toy ranking (mean item score per suite plus expert points)."""

from __future__ import annotations

import time
from collections import Counter
from statistics import fmean

import numpy as np
import pytest

from dokja.arena.leaderboard import OUTCOMES, VoteRecord
from dokja.programme.schema import Programme
from dokja.stage.inputs import StageError
from dokja.stage.records import (ArenaUsed, ItemScore, ReferenceEntry, RunUsed, StageInputs, SuiteUsed,
                                 TeamEntry)
from dokja.stage.robustness import (MORE_EVALUATION, Placing, Robustness, resample, robustness, verdicts)


def programme(keep: int, suites: list[str]) -> Programme:
    return Programme.model_validate({"name": "t", "stages": [{"id": "s1", "name": "S", "date": "2026-06-30",
                                                              "keep": keep}], "suites": {"ministry": suites}})


def run(suite: str, scores, skip: tuple[int, ...] = ()) -> RunUsed:
    items = tuple(ItemScore(item=f"{suite}-{k:02d}", score=float(s)) for k, s in enumerate(scores) if k not in skip)
    return RunUsed(run_id=0, suite=suite, metric="acc", limit=None, num_fewshot=0, commitment="c",
                   config_hash="h", items=items)


def team(key: str, suites: dict[str, list[float]], expert: float = 0.0) -> TeamEntry:
    return TeamEntry(id=key, name=key.title(), model=f"{key}-m", runs={s: run(s, v) for s, v in suites.items()},
                     expert=expert)


def stage_inputs(teams, keep=1, votes=None, references=()) -> StageInputs:
    suites = sorted({s for t in teams for s in t.runs})
    return StageInputs(
        programme=programme(keep, suites), programme_sha256="0" * 64, stage="s1",
        decided_at="2026-06-30T00:00:00Z", teams=tuple(teams), references=tuple(references),
        suites=tuple(SuiteUsed(id=s, title_en=s, component="ministry", metric="acc", commitment="c", n_items=20)
                     for s in suites),
        user_source="csv" if votes is None else "arena",
        arena=None if votes is None else ArenaUsed(source="test", votes=tuple(votes)))


def toy_rank(inputs: StageInputs, failed: frozenset[str] = frozenset()) -> list[Placing]:
    """Sum of per-suite mean scores plus expert points; equal totals share a rank; `failed` teams are out."""
    keep = next(s.keep for s in inputs.programme.stages if s.id == inputs.stage)
    totals = {t.id: sum(fmean(i.score for i in r.items) for r in t.runs.values()) + t.expert
              for t in inputs.teams}
    ranked = {k: v for k, v in totals.items() if k not in failed}
    out = [Placing(team=k, rank=None, advanced=False, total=totals[k]) for k in sorted(failed & totals.keys())]
    for key, total in ranked.items():
        r = 1 + sum(o > total for o in ranked.values())
        out.append(Placing(team=key, rank=r, advanced=r <= keep, total=total))
    return sorted(out, key=lambda p: (p.rank is None, p.rank or 0, p.team))


def ones(*positions: int, n: int = 20) -> list[float]:
    return [1.0 if k in positions else 0.0 for k in range(n)]


# A near-tie: alpha right on 11 items, beta on 10, mostly different ones, so the paired draw can reverse them.
NEAR = [team("alpha", {"a": ones(*range(0, 11))}), team("beta", {"a": ones(*range(9, 19))})]


def test_same_seed_same_bytes_other_seed_differs():
    inputs = stage_inputs(NEAR)
    first = robustness(inputs, toy_rank, rounds=60, seed=7)
    assert first.canonical() == robustness(inputs, toy_rank, rounds=60, seed=7).canonical()
    assert first.canonical() != robustness(inputs, toy_rank, rounds=60, seed=8).canonical()
    assert (first.rounds, first.seed) == (60, 7)


def test_resample_draws_the_same_items_for_every_run_of_a_suite():
    ref = ReferenceEntry(name="Ref", vendor="V", released="2026-01-01", runs={"a": run("a", [1.0] * 20)},
                         published={"b": 0.5})
    lacking = TeamEntry(id="gap", name="Gap", model="gap-m", runs={"a": run("a", [0.5] * 20, skip=(0, 1, 2))},
                        expert=0.0)
    inputs = stage_inputs([*NEAR, lacking], references=[ref])
    rep = resample(inputs, np.random.default_rng(3))
    drawn = Counter(i.item for i in rep.teams[0].runs["a"].items)
    assert sum(drawn.values()) == 20
    assert Counter(i.item for i in rep.teams[1].runs["a"].items) == drawn
    assert Counter(i.item for i in rep.references[0].runs["a"].items) == drawn
    assert Counter(i.item for i in rep.teams[2].runs["a"].items) == Counter(
        {k: v for k, v in drawn.items() if k not in {"a-00", "a-01", "a-02"}})
    assert rep.references[0].published == {"b": 0.5}
    assert inputs.teams[0].runs["a"].items == NEAR[0].runs["a"].items  # the original is untouched


def test_identical_item_vectors_get_identical_odds():
    twin = ones(0, 2, 3, 5, 8, 13)
    teams = [team("a", {"x": twin, "y": ones(1, 2)}), team("b", {"x": twin, "y": ones(1, 2)}),
             team("c", {"x": ones(0, 1, 2, 4, 6, 7, 9), "y": ones(3)})]
    result = robustness(stage_inputs(teams), toy_rank, rounds=200, seed=1)
    odds = {t.team: t for t in result.teams}
    assert odds["a"].p_rank == odds["b"].p_rank
    assert odds["a"].p_advance == odds["b"].p_advance
    assert 0 < odds["a"].p_advance < 1


def test_near_tie_at_the_cut_is_a_close_call():
    result = robustness(stage_inputs(NEAR), toy_rank, rounds=200, seed=11)
    assert [t.advanced for t in result.teams] == [True, False]
    assert result.cut is not None and result.close_calls[0] == result.cut
    call = result.cut
    assert (call.advanced, call.eliminated, call.at_cut) == ("alpha", "beta", True)
    assert 0.05 < call.p_flip < 0.95
    assert call.gap == pytest.approx(1 / 20)
    assert call.text.startswith("Alpha vs Beta: Alpha is eliminated or overtaken by Beta in ")
    assert "a change of 0.05 points would flip them" in call.text
    beta = result.teams[1]
    assert sum(beta.p_rank) == pytest.approx(1.0)
    assert beta.p_advance + beta.p_eliminated == pytest.approx(1.0)


def test_clear_separation_is_no_close_call():
    teams = [team("top", {"a": [1.0] * 20, "b": [1.0] * 20}), team("low", {"a": [0.0] * 20, "b": [0.0] * 20})]
    result = robustness(stage_inputs(teams), toy_rank, rounds=100, seed=2)
    odds = {t.team: t for t in result.teams}
    assert odds["top"].p_advance == 1.0 and odds["top"].p_rank == (1.0, 0.0)
    assert odds["low"].p_eliminated == 1.0
    assert result.close_calls == ()
    assert result.cut is not None and result.cut.p_flip == 0.0 and result.cut.gap == pytest.approx(2.0)


def test_gate_failures_are_not_ranked_or_paired():
    teams = [*NEAR, team("copier", {"a": [1.0] * 20})]
    failed = frozenset({"copier"})
    result = robustness(stage_inputs(teams), lambda i: toy_rank(i, failed), rounds=50, seed=4)
    odds = {t.team: t for t in result.teams}
    assert odds["copier"].rank is None and odds["copier"].p_rank == (0.0, 0.0, 0.0)
    assert odds["copier"].p_eliminated == 1.0
    assert all("copier" not in (c.advanced, c.eliminated) for c in result.close_calls)


def test_rounds_below_two_refused():
    with pytest.raises(StageError, match="at least 2 rounds"):
        robustness(stage_inputs(NEAR), toy_rank, rounds=1, seed=0)


def test_verdicts_follow_the_pre_registered_rule():
    result = robustness(stage_inputs(NEAR), toy_rank, rounds=200, seed=11)
    assert verdicts(result, None) == {"alpha": "advance", "beta": "eliminated"}
    beta = result.teams[1].p_eliminated
    assert verdicts(result, beta) == {"alpha": "advance", "beta": "eliminated"}
    assert verdicts(result.teams, min(1.0, beta + 0.01)) == {"alpha": "advance", "beta": MORE_EVALUATION}
    with pytest.raises(StageError):
        verdicts(result, 1.5)


def demo_votes(n: int, models: list[str]) -> list[VoteRecord]:
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(models), size=(n, 2))
    outcomes = rng.integers(0, len(OUTCOMES), size=n)
    return [VoteRecord(battle=str(k), model_a=models[a], model_b=models[(b + 1 + a) % len(models)] if a == b
                       else models[b], outcome=OUTCOMES[o]) for k, ((a, b), o) in enumerate(zip(picks, outcomes))]


def demo_inputs() -> StageInputs:
    rng = np.random.default_rng(5)
    suites = [f"s{k}" for k in range(7)]
    teams = [team(f"t{k}", {s: list(rng.integers(0, 2, size=20).astype(float)) for s in suites}, expert=20.0)
             for k in range(6)]
    return stage_inputs(teams, keep=4, votes=demo_votes(4000, [t.model for t in teams]))


def test_vote_resampling_keeps_the_count():
    inputs = demo_inputs()
    rep = resample(inputs, np.random.default_rng(9))
    assert len(rep.arena.votes) == len(inputs.arena.votes) == 4000
    assert set(rep.arena.votes) <= set(inputs.arena.votes)
    assert rep.arena.votes != inputs.arena.votes


def test_two_hundred_replicates_resample_quickly():
    inputs = demo_inputs()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(200):
        resample(inputs, rng)
    elapsed = time.perf_counter() - start
    print(f"200 replicates of 6 teams x 7 suites x 20 items and 4000 votes: {elapsed:.2f} s")
    assert elapsed < 10.0


def test_record_is_canonical_json():
    result = robustness(stage_inputs(NEAR), toy_rank, rounds=20, seed=0)
    assert Robustness.model_validate_json(result.canonical()) == result
