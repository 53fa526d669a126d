"""The case that decided the real first stage: an independent language model with a foreign vision encoder.
A frozen copy of the encoder is flagged on the encoder only; an encoder re-initialised and trained passes."""

from __future__ import annotations

import pytest

from dokja.provenance import disguise as V
from dokja.provenance.fingerprint import library_profile, take
from dokja.provenance.verdict import check

FOREIGN_VISION = {"model_type": "siglip_vision_model"}


@pytest.fixture(scope="session")
def encoder_case(smollm2_dir, tmp_path_factory, library):
    import json

    root = tmp_path_factory.mktemp("encoder-case")
    cfg = json.loads((smollm2_dir / "config.json").read_text())
    tower = V.vision_tower(seed=7)
    foreign_lm = {k: v for k, v in V.independent(cfg, seed=11).items()
                  if not k.startswith("model.layers.") or int(k.split(".")[2]) < 4}
    foreign = V.write(root / "foreign-vlm", {**foreign_lm, **tower},
                      {**cfg, "num_hidden_layers": 4, "vision_config": FOREIGN_VISION})
    own_lm = V.independent(cfg, seed=12)
    copied = V.write(root / "copied-encoder", {**own_lm, **tower}, {**cfg, "vision_config": FOREIGN_VISION})
    retrained = V.write(root / "retrained-encoder", {**own_lm, **V.trained_briefly(V.vision_tower(seed=8), seed=9)},
                        {**cfg, "vision_config": {"model_type": "own_vit"}})
    entries, null = library
    lib = [*entries, library_profile(foreign, name="Foreign-VLM")]
    return {name: check(take(path, name=name), lib, null) for name, path in
            (("copied", copied), ("retrained", retrained))}


def test_frozen_foreign_encoder_is_flagged_on_the_encoder_only(encoder_case):
    v = encoder_case["copied"]
    derived = {c["component"]: c for c in v["components"] if c["verdict"] == "derived"}
    assert set(derived) == {"encoder:vision_tower", "encoder:multi_modal_projector"}
    assert {c["source"] for c in derived.values()} == {"Foreign-VLM"}
    assert "byte-identical" in derived["encoder:vision_tower"]["note"]
    assert "siglip_vision_model" in derived["encoder:vision_tower"]["note"]
    assert not v["passed"]


def test_reinitialised_and_trained_encoder_passes(encoder_case):
    v = encoder_case["retrained"]
    assert v["passed"], [(c["component"], c["value"], c["threshold"]) for c in v["components"]]
    enc = next(c for c in v["components"] if c["component"] == "encoder:vision_tower")
    assert enc["value"] is not None and enc["value"] < enc["threshold"]
