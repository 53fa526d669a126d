"""Session fixtures for the provenance verdict tests: SmolLM2 variants made for real, written once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dokja.provenance import disguise as V


@pytest.fixture(scope="session")
def own_tokenizer(tmp_path_factory) -> Path:
    """A byte-level BPE tokenizer trained on the bundled Korean corpus: an independent team's own."""
    from dokja.demo.builders import train_tokenizer
    from dokja.demo.corpus import read_corpus

    out = tmp_path_factory.mktemp("own-tokenizer")
    train_tokenizer(read_corpus(60_000), vocab_size=2048).save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def variants(smollm2_dir, own_tokenizer, tmp_path_factory) -> dict[str, Path]:
    """Name → HF directory. Copies of SmolLM2 as a copier would disguise them, and independent models."""
    root = tmp_path_factory.mktemp("variants")
    base = Path(smollm2_dir)
    w, cfg = V.load(base)
    tokenizer = json.loads((base / "tokenizer.json").read_text())
    made = {"fine-tuned": V.fine_tuned(base, root / "fine-tuned"),
            "noised": V.write(root / "noised", V.noised(w, 1.0, seed=1), cfg, base),
            "noised 2×": V.write(root / "noised-2x", V.noised(w, 2.0, seed=1), cfg, base),
            "permuted": V.write(root / "permuted", V.permuted(w, cfg, seed=2), cfg, base)}
    made["folded+rotated"] = V.write(root / "folded-rotated", *V.folded_and_rotated(w, cfg, seed=3), base)
    made["layer dropped"] = V.write(root / "layer-dropped", *V.layer_dropped(w, cfg, drop=10), base)
    made["re-quantised"] = V.write(root / "re-quantised", V.requantised(w), cfg, base)
    wx, cx, tx = V.vocabulary_extended(w, cfg, tokenizer, extra=256, seed=4)
    made["vocabulary extended"] = V.write(root / "vocab-extended", wx, cx, base, tx)
    for seed in (1, 2):
        folder = V.write(root / f"independent-{seed}", V.independent(cfg, seed), cfg)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            (folder / name).write_bytes((own_tokenizer / name).read_bytes())
        made[f"independent seed {seed}"] = folder
    return made


@pytest.fixture(scope="session")
def library():
    from dokja.provenance import library as lib

    return lib.entries(), lib.null()


@pytest.fixture(scope="session")
def verdicts(variants, library, cache) -> dict[str, dict]:
    """Every variant, SmolLM2 itself and Gemma 3 270M (read from its GGUF) checked against the library."""
    from dokja.models import resolve
    from dokja.provenance.fingerprint import take
    from dokja.provenance.verdict import check

    entries, null = library
    paths = {**variants, "Gemma 3 270M": Path(resolve("package:gemma3-270m", cache).path)}
    return {name: check(take(path, name=name), entries, null) for name, path in paths.items()}
