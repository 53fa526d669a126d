"""The verdict on real weights: SmolLM2 copies disguised every way a copier would are flagged on the copied
components; independently initialised models and Gemma 3 270M are not; no false call either way."""

from __future__ import annotations

import pytest

SMOL = "SmolLM2-135M-Instruct"
DERIVED = {  # variant → components that must be flagged (all of them were copied)
    "fine-tuned": {"tokenizer", "embeddings", "attention", "mlp", "norms", "head"},
    "noised": {"tokenizer", "embeddings", "attention", "mlp", "norms", "head"},
    "permuted": {"tokenizer", "embeddings", "attention", "mlp", "norms", "head"},
    "folded+rotated": {"tokenizer", "embeddings", "attention", "mlp", "head"},  # norms are folded away
    "layer dropped": {"tokenizer", "embeddings", "attention", "mlp", "norms", "head"},
    "re-quantised": {"tokenizer", "embeddings", "attention", "mlp", "norms", "head"},
    "vocabulary extended": {"tokenizer", "embeddings", "attention", "mlp", "norms", "head"},
    # noise twice each matrix's standard deviation: neuron matching holds, the embeddings alone fade below
    "noised 2×": {"tokenizer", "attention", "mlp", "norms"},
}
INDEPENDENT = ("independent seed 1", "independent seed 2", "Gemma 3 270M")


def _by_component(verdict: dict) -> dict[str, dict]:
    return {c["component"]: c for c in verdict["components"]}


@pytest.mark.parametrize("variant", sorted(DERIVED))
def test_disguised_copies_are_derived_from_smollm2(verdicts, variant):
    v = verdicts[variant]
    comps = _by_component(v)
    flagged = {k for k, c in comps.items() if c["verdict"] == "derived"}
    assert DERIVED[variant] <= flagged, (variant, {k: (c["value"], c["threshold"]) for k, c in comps.items()})
    assert {comps[k]["source"] for k in DERIVED[variant]} == {SMOL}
    assert not v["passed"] and v["summary"].startswith(f"derived from {SMOL}")


@pytest.mark.parametrize("model", INDEPENDENT[:2])
def test_independently_initialised_models_are_independent(verdicts, model):
    v = verdicts[model]
    assert v["passed"], [(c["component"], c["value"], c["threshold"]) for c in v["components"]]
    assert v["summary"] == "independent"


def test_gemma_is_not_derived_from_smollm2_and_is_recognised_as_itself(verdicts):
    v = verdicts["Gemma 3 270M"]
    assert all(c["source"] != SMOL for c in v["components"])
    flagged = {c["component"] for c in v["components"] if c["verdict"] == "derived"}
    assert {"tokenizer", "embeddings", "mlp", "norms"} <= flagged
    assert v["summary"].startswith("derived from Gemma-3-270M")


def test_every_verdict_carries_its_threshold_and_null(verdicts):
    for v in verdicts.values():
        for c in v["components"]:
            if c["component"] == "card" or c["value"] is None:
                continue
            assert c["threshold"] is not None and c["null"]["n"] >= 3 and c["null"]["max"] < c["threshold"]
            assert c["statistic"] and c["tensors"]


def test_no_false_call_and_the_margin_is_printed(verdicts):
    """Against SmolLM2: the farthest derived variant sits above the closest independent model, per statistic."""
    for comp in ("mlp", "attention", "embeddings", "head", "tokenizer", "norms"):
        derived = [_by_component(verdicts[k])[comp]["by_entry"][SMOL] for k, parts in DERIVED.items() if comp in parts]
        independent = [_by_component(verdicts[k])[comp]["by_entry"].get(SMOL) or 0.0 for k in INDEPENDENT]
        margin = min(derived) - max(independent)
        print(f"{comp}: farthest derived {min(derived):.3f}, closest independent {max(independent):.3f}, "
              f"margin {margin:.3f}")
        assert margin > 0


def test_independent_norms_with_high_raw_cosine_are_not_flagged(verdicts):
    """Raw cosine of norm vectors is near 1 for any two models; the mean-centred correlation decides."""
    for name in ("independent seed 1", "independent seed 2"):
        norms = _by_component(verdicts[name])["norms"]
        assert norms["raw_cosine"] > 0.95
        assert norms["value"] < 0.3 and norms["verdict"] == "independent"
    copied = _by_component(verdicts["fine-tuned"])["norms"]
    assert copied["value"] > 0.9 and copied["verdict"] == "derived"


def test_neuron_matching_p_value_is_tiny_for_a_copy(verdicts):
    mlp = _by_component(verdicts["permuted"])["mlp"]
    assert mlp["p_value"] < 1e-6
    assert _by_component(verdicts["independent seed 1"])["mlp"]["p_value"] > 1e-3
