"""Build the bundled provenance library: SmolLM2-135M-Instruct and Gemma 3 270M, and the null distribution
of unrelated pairs the thresholds come from (the two real models against each other, and independently
initialised models of SmolLM2's shapes, each with its own tokenizer and small vision encoder, against
everything).

    python scripts/build_provenance_library.py [--cache .dokja] [--out src/dokja/provenance/library]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

KNOWN = {
    "SmolLM2-135M-Instruct": ("package:smollm2-135m-instruct", "Apache-2.0",
                              ["HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M", "SmolLM2"]),
    "Gemma-3-270M": ("package:gemma3-270m", "Gemma Terms of Use", ["google/gemma-3-270m", "gemma-3-270m"]),
}
NULL_SEEDS = (101, 102, 103)


def main() -> None:
    from dokja.models import resolve
    from dokja.provenance import disguise as V
    from dokja.provenance import fingerprint, null
    from dokja.provenance.library import NULL_FILE, add

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".dokja")
    parser.add_argument("--out", type=Path, default=ROOT / "src" / "dokja" / "provenance" / "library")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    paths = {}
    for name, (location, licence, aliases) in KNOWN.items():
        paths[name] = resolve(location, args.cache).path
        add(name, paths[name], args.out, aliases=aliases, licence=licence)
        print(f"{name}: {(args.out / f'{name}.npz').stat().st_size / 1e6:.2f} MB", flush=True)
    lib = {name: fingerprint.load(args.out / f"{name}.npz") for name in KNOWN}
    names = list(KNOWN)
    # the real models share many tokens by string, though few in one run of ids: read each at the other's
    # library tokens, so the null holds what two unrelated trained models score on the same tokens
    pairs = [(fingerprint.take(paths[a], name=a, embed_keys=lib[b].token_keys), lib[b])
             for a in names for b in names if a != b]
    with tempfile.TemporaryDirectory() as tmp:
        smol = resolve(KNOWN["SmolLM2-135M-Instruct"][0], args.cache).path
        from dokja.models import materialise_gguf

        base = materialise_gguf(smol, args.cache)
        config = json.loads((base / "config.json").read_text())
        from dokja.demo.builders import train_tokenizer
        from dokja.demo.corpus import read_corpus

        docs = read_corpus(600_000)
        rand_checks, rand_libs = {}, {}
        for n, seed in enumerate(NULL_SEEDS):
            weights = {**V.independent(config, seed), **V.vision_tower(seed + 100)}
            folder = V.write(Path(tmp) / f"init-{seed}", weights, {**config, "vision_config": {
                "model_type": f"vit-{seed}"}})
            own = docs[n::len(NULL_SEEDS)]  # each its own tokenizer, trained on its own share of the corpus
            train_tokenizer(own, vocab_size=4096 + 2048 * n).save_pretrained(str(folder))
            rand_checks[seed] = fingerprint.take(folder, name=f"init-seed-{seed}")
            rand_libs[seed] = fingerprint.library_profile(folder, name=f"init-seed-{seed}", hash_all=False)
        for seed, cand in rand_checks.items():
            pairs += [(cand, lib[n]) for n in names]
            pairs += [(cand, other) for s, other in rand_libs.items() if s != seed]
        values = null.null_values(pairs)
    summary = null.summarise(values)
    null.save_null(summary, args.out / NULL_FILE)
    for kind, ref in summary.items():
        print(f"{kind:11s} n={ref['n']:3d} mean={ref['mean']:.3f} sd={ref['sd']:.3f} max={ref['max']:.3f} "
              f"threshold={ref['threshold']:.3f}")
    print(f"built in {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
