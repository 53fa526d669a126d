"""n samples per item: how they are drawn (seeded per item and sample) and reduced to one number per item.

Code is reduced to pass@k by the unbiased estimator (`reasoning.pass_at_k`), its primary pass@1 being the
share of samples that pass; every other scorer to the mean of each metric over the samples, with maj@n (the
most frequent answer, scored) beside it. Every sample is kept in the item's detail.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from . import reasoning
from .scoring import normalise


class SamplingError(ValueError):
    """Sampling settings that cannot be used; one line naming the fault."""


@dataclass(frozen=True)
class Sampling:
    """`n` samples per item at `temperature`, seeded from `seed`; `k` the pass@k values reported for code."""

    n: int = 1
    temperature: float = 0.0
    seed: int = 0
    k: tuple[int, ...] = (1,)

    @property
    def default(self) -> bool:
        """One greedy answer per item: what every run was before sampling existed (its config says nothing)."""
        return self.n == 1 and self.temperature == 0

    def config(self) -> dict:
        return {"n": self.n, "temperature": self.temperature, "seed": self.seed, "k": list(self.k)}

    def seeds(self, item_id: str) -> list[int]:
        """One seed per sample, a function of the run's seed, the item and the sample's place only, so any
        sample can be drawn again on its own."""
        return [int.from_bytes(hashlib.sha256(f"{self.seed}\0{item_id}\0{j}".encode()).digest()[:4], "big")
                for j in range(self.n)]


def sampling_of(spec: dict | None, where: str = "samples") -> Sampling:
    """The settings from a suite's `samples` table (or the programme's); refused in one line when unusable."""
    if not spec:
        return Sampling()
    if not isinstance(spec, dict) or set(spec) - {"n", "temperature", "seed", "k"}:
        raise SamplingError(f"{where}: expected a table of n, temperature, seed and k, found {spec!r}")
    n, temperature, seed = spec.get("n", 1), spec.get("temperature", 0.0), spec.get("seed", 0)
    k = spec.get("k", [1])
    k = [k] if isinstance(k, int) else k
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise SamplingError(f"{where}.n: expected a whole number ≥ 1, found {n!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or temperature < 0:
        raise SamplingError(f"{where}.temperature: expected a number ≥ 0, found {temperature!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SamplingError(f"{where}.seed: expected a whole number, found {seed!r}")
    if n > 1 and temperature == 0:
        raise SamplingError(f"{where}: {n} samples at temperature 0 would all be the same answer")
    if not isinstance(k, list) or not k or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= n
                                                for v in k):
        raise SamplingError(f"{where}.k: expected whole numbers from 1 to n={n}, found {k!r}")
    return Sampling(n, float(temperature), seed, tuple(sorted(set(k))))


def reduce_code(samples: list[tuple[dict, dict]], sampling: Sampling) -> tuple[dict, dict]:
    """pass@k for each k asked (pass@1 always), from the samples' own pass@1 (0 or 1 each)."""
    n = len(samples)
    c = sum(int(metrics["pass@1"]) for metrics, _ in samples)
    metrics = {f"pass@{k}": reasoning.pass_at_k(n, c, k) for k in sorted({1, *sampling.k}) if k <= n}
    return metrics, {"n": n, "correct": c}


def reduce_mean(samples: list[tuple[dict, dict]], primary: str) -> tuple[dict, dict]:
    """Each metric's mean over the samples, and maj@n: the primary metric of the most frequent answer."""
    names = sorted({m for metrics, _ in samples for m in metrics})
    metrics = {m: reasoning.mean(s[0][m] for s in samples if m in s[0]) for m in names}
    answers = [_answer(detail) for _, detail in samples]
    score_of: dict[str, float] = {}
    for answer, (scores, _) in zip(answers, samples):
        if answer is not None:
            score_of.setdefault(normalise(answer), float(scores.get(primary, 0.0)))
    metrics[f"maj@{len(samples)}"] = reasoning.maj_at_k(answers, lambda a: score_of[normalise(a)] == 1.0,
                                                        key=normalise)
    return metrics, {"n": len(samples)}


def _answer(detail: dict) -> str | None:
    found = detail.get("extracted", detail.get("output"))
    return None if found is None else str(found)


def reduce(samples: list[tuple[dict, dict]], sampling: Sampling, primary: str, seeds: list[int]) -> tuple[dict, dict]:
    """One item's samples to its metrics and detail; a sample that failed fails the item (a resume retries it)."""
    kept = [{**detail, "seed": seed} for (_, detail), seed in zip(samples, seeds)]
    failed = next((d["failed"] for (metrics, d) in samples if not metrics), None)
    if failed is not None:
        return {}, {"method": "generation", "failed": failed, "samples": kept}
    is_code = all("pass@1" in metrics for metrics, _ in samples)
    metrics, summary = reduce_code(samples, sampling) if is_code else reduce_mean(samples, primary)
    return metrics, {"method": "generation", **summary, "samples": kept}
