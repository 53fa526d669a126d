"""n samples per item: pass@k against the closed form and brute force, seeds, the run's identity, and a real
small model sampled twice per item on a code suite end to end."""

from __future__ import annotations

import itertools
import math

import pytest
from sqlalchemy import select

from dokja.harness import load_suite
from dokja.harness.reasoning import pass_at_k
from dokja.harness.runner import evaluate, run_settings
from dokja.harness.sampling import Sampling, SamplingError, reduce, sampling_of
from dokja.harness.suite import Suite, SuiteError
from dokja.models.local import TransformersModel
from dokja.store import open_store
from dokja.store import schema as db


def brute_pass_at_k(n: int, c: int, k: int) -> float:
    """The share of all k-subsets of the n samples holding at least one correct one."""
    samples = [True] * c + [False] * (n - c)
    subsets = list(itertools.combinations(samples, k))
    return sum(any(s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_pass_at_k_equals_the_closed_form_and_brute_force(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            closed = 1 - math.comb(n - c, k) / math.comb(n, k)
            assert pass_at_k(n, c, k) == pytest.approx(closed, abs=1e-12)
            assert pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k), abs=1e-12)


def test_code_samples_reduce_to_pass_at_k():
    sampling = Sampling(n=10, temperature=0.8, seed=1, k=(1, 5, 10))
    samples = [({"pass@1": float(j < 3)}, {"output": str(j), "verdict": "passed" if j < 3 else "failed"})
               for j in range(10)]
    metrics, detail = reduce(samples, sampling, "pass@1", sampling.seeds("a"))
    assert metrics == {"pass@1": pytest.approx(0.3), "pass@5": pytest.approx(1 - math.comb(7, 5) / math.comb(10, 5)),
                       "pass@10": 1.0}
    assert detail["n"] == 10 and detail["correct"] == 3 and len(detail["samples"]) == 10
    assert [s["seed"] for s in detail["samples"]] == sampling.seeds("a")


def test_other_samples_reduce_to_the_mean_and_maj():
    sampling = Sampling(n=3, temperature=0.7)
    samples = [({"exact_match": 1.0}, {"output": "42", "extracted": 42.0}),
               ({"exact_match": 0.0}, {"output": "41", "extracted": 41.0}),
               ({"exact_match": 1.0}, {"output": "42.", "extracted": 42.0})]
    metrics, _ = reduce(samples, sampling, "exact_match", sampling.seeds("b"))
    assert metrics == {"exact_match": pytest.approx(2 / 3), "maj@3": 1.0}
    failed = reduce([samples[0], ({}, {"failed": "HTTP 503"})], Sampling(n=2, temperature=1), "exact_match", [1, 2])
    assert failed[0] == {} and failed[1]["failed"] == "HTTP 503"


def test_seeds_are_per_item_and_sample_and_settings_change_the_run():
    a = Sampling(n=4, temperature=0.8, seed=0)
    assert a.seeds("x") == Sampling(n=4, temperature=0.8, seed=0).seeds("x")
    assert len(set(a.seeds("x") + a.seeds("y"))) == 8 and a.seeds("x") != Sampling(n=4, temperature=0.8,
                                                                                   seed=1).seeds("x")
    assert Sampling(n=2, temperature=0.8).seeds("x") == a.seeds("x")[:2]  # a sample is drawn the same on its own
    meta = {"id": "s", "scorer": "code", "num_fewshot": 0}
    one, ten = run_settings("sha", meta, None, None), run_settings("sha", meta, None, None, Sampling(10, 0.8))
    assert one[1] != ten[1] and "samples" not in one[0] and ten[0]["samples"]["n"] == 10
    by_suite = run_settings("sha", {**meta, "samples": {"n": 10, "temperature": 0.8}}, None, None)
    assert by_suite == ten
    plain = {"id": "p", "num_fewshot": 0}  # runs made before sampling existed keep their hash
    assert run_settings("sha", plain, 5, 0, Sampling())[1] == run_settings("sha", plain, 5, 0)[1]


@pytest.mark.parametrize("spec, fault", [({"n": 0, "temperature": 1}, "n: expected"),
                                         ({"n": 2, "temperature": -1}, "temperature"),
                                         ({"n": 3}, "same answer"), ({"n": 2, "temperature": 1, "k": [3]}, "k:"),
                                         ({"n": 2, "temperature": 1, "top_p": 0.9}, "expected a table")])
def test_bad_sampling_settings_are_one_line(spec, fault):
    with pytest.raises(SamplingError, match=fault) as refused:
        sampling_of(spec)
    assert "\n" not in str(refused.value)


def test_a_backend_that_cannot_sample_is_refused_in_one_line(tmp_path):
    class Greedy:
        name, chat = "greedy-only", False

        def generate(self, prompts, *, max_new_tokens, stop, progress=None):
            return ["x" for _ in prompts]

    suite = Suite("g", {"id": "g", "kind": "generate", "metric": "exact_match", "samples": {"n": 2, "temperature": 1},
                        "generate": {"max_new_tokens": 4, "stop": []}}, [{"id": "a", "prompt": "q", "answer": "x"}])
    sessions = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    with sessions.begin() as s:
        model = s.merge(db.Model(name="greedy", kind="endpoint", location="test double", chat=False))
    with pytest.raises(SuiteError, match="cannot draw seeded samples"):
        evaluate(sessions, model, suite, Greedy)


@pytest.fixture(scope="module")
def smol(smollm2_dir):
    return TransformersModel(smollm2_dir, name="smol", device="cpu")


def _sampled_run(tmp_path, name: str, backend, suite, limit: int):
    sessions = open_store(f"sqlite:///{tmp_path / f'{name}.db'}")
    with sessions.begin() as s:
        model = s.merge(db.Model(name="smol", kind="hf", location="package:smollm2-135m-instruct", chat=False))
    outcome = evaluate(sessions, model, suite, lambda: backend, limit=limit,
                       samples=Sampling(2, 0.8, seed=7, k=(1, 2)))
    with sessions.begin() as s:
        run = s.get(db.Run, outcome.run_id)
        rows = s.scalars(select(db.Result).where(db.Result.run_id == run.id).order_by(db.Result.id)).all()
        return outcome, dict(run.config), [(r.metrics, r.detail) for r in rows]


def test_a_real_model_sampled_twice_per_item_on_a_code_suite(tmp_path, smol):
    base = load_suite("humaneval_sample")
    meta = {**base.meta, "generate": {"max_new_tokens": 12, "stop": base.meta["generate"]["stop"]}}
    suite = Suite(base.id, meta, base.items)
    outcome, config, rows = _sampled_run(tmp_path, "a", smol, suite, limit=2)
    assert outcome.computed == 2 and outcome.summary["n"] == 2 and outcome.summary["failed"] == 0
    assert config["samples"] == {"n": 2, "temperature": 0.8, "seed": 7, "k": [1, 2]}
    assert config["sandbox"] == "bubblewrap"
    for metrics, detail in rows:
        assert set(metrics) == {"pass@1", "pass@2"} and metrics["pass@1"] in (0.0, 0.5, 1.0)
        assert detail["n"] == 2 and len(detail["samples"]) == 2
        for sample in detail["samples"]:
            assert {"output", "program", "verdict", "seconds", "seed"} <= set(sample)
            assert sample["verdict"] in ("passed", "failed", "timeout", "error")
    outputs = [[s["output"] for s in detail["samples"]] for _, detail in rows]
    assert any(a != b for a, b in outputs)  # sampled, not greedy twice
    _, _, again = _sampled_run(tmp_path, "b", smol, suite, limit=1)  # drawn again in another store
    assert [s["output"] for s in again[0][1]["samples"]] == outputs[0]  # the same for the seed
