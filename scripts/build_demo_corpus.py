#!/usr/bin/env python
"""Build Dokja's bundled demo training corpus from the KoBEST *train* splits.

Reads ``../shared/data/kobest/v1.0/<task>/train.tsv`` (relative to the repository root, or
``--data``) and writes ``src/dokja/demo/corpus/kobest_train_ko.txt``: plain UTF-8, one document per
line. Only train splits are read as training text. The dev and test splits are read solely to
*exclude* any train document that shares text with them (exact match of a document or of one of its
parts, or any shared run of ``--ngram`` characters), so no evaluation text leaks into the models the
demo trains on this corpus.

Documents:
  * BoolQ: the passage (``Text``).
  * COPA: premise + correct alternative, in causal order (cause first, effect second).
  * HellaSwag: context + correct ending.
  * SentiNeg: the review text.
  * WiC: each example sentence, with the ``[target]`` brackets removed.

Documents are normalised (whitespace collapsed), de-duplicated and shuffled with a fixed seed so that
any prefix of the file mixes all sources. The output is byte-for-byte reproducible.

Usage: python scripts/build_demo_corpus.py [--data DIR] [--out FILE] [--seed N] [--ngram N]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import re
import sys
from collections import Counter
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "kobest" / "v1.0"
DEFAULT_OUT = REPO_ROOT / "src" / "dokja" / "demo" / "corpus" / "kobest_train_ko.txt"
TASKS = ("BoolQ", "COPA", "HellaSwag", "SentiNeg", "WiC")
# Parts shorter than this are too generic ("좋아요") to count as leaked text on an exact match.
MIN_EXACT_CHARS = 8

_WS = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _WS.sub(" ", text.replace("[", "").replace("]", "")).strip()


def read_tsv(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def train_documents(data: Path) -> list[tuple[str, list[str]]]:
    """(source, parts) for every train item; the document is the parts joined by a space."""
    docs: list[tuple[str, list[str]]] = []
    for r in read_tsv(data / "BoolQ" / "train.tsv"):
        docs.append(("BoolQ", [r["Text"]]))
    for r in read_tsv(data / "COPA" / "train.tsv"):
        answer = r["1"] if r["Answer"].strip() == "1" else r["2"]
        # question 결과 = "what was the effect?", 원인 = "what was the cause?"
        parts = [r["sentence"], answer] if r["question"].strip() == "결과" else [answer, r["sentence"]]
        docs.append(("COPA", parts))
    for r in read_tsv(data / "HellaSwag" / "train.tsv"):
        ending = r["choice%d" % (int(r["label"]) + 1)]
        docs.append(("HellaSwag", [r["context"], ending]))
    for r in read_tsv(data / "SentiNeg" / "train.tsv"):
        docs.append(("SentiNeg", [r["Text"]]))
    for r in read_tsv(data / "WiC" / "train.tsv"):
        docs.append(("WiC", [r["SENTENCE1"]]))
        docs.append(("WiC", [r["SENTENCE2"]]))
    return docs


def held_out_texts(data: Path) -> set[str]:
    """Every text field of every dev and test split, normalised."""
    out: set[str] = set()
    for task in TASKS:
        for split in ("dev", "test"):
            for r in read_tsv(data / task / f"{split}.tsv"):
                for value in r.values():
                    if value:
                        v = normalise(value)
                        if len(v) >= MIN_EXACT_CHARS and not v.startswith("http"):
                            out.add(v)
    return out


def build(data: Path, seed: int = 0, ngram: int = 30) -> tuple[list[str], Counter, Counter]:
    held = held_out_texts(data)
    grams: set[str] = set()
    for text in held:
        for i in range(len(text) - ngram + 1):
            grams.add(text[i : i + ngram])

    def leaks(parts: list[str], doc: str) -> bool:
        if doc in held or any(p in held for p in parts):
            return True
        return any(doc[i : i + ngram] in grams for i in range(len(doc) - ngram + 1))

    kept: Counter = Counter()
    dropped: Counter = Counter()
    seen: set[str] = set()
    out: list[str] = []
    for source, raw_parts in train_documents(data):
        parts = [normalise(p) for p in raw_parts]
        doc = " ".join(p for p in parts if p)
        if not doc or doc in seen:
            continue
        seen.add(doc)
        if leaks(parts, doc):
            dropped[source] += 1
            continue
        kept[source] += 1
        out.append(doc)
    random.Random(seed).shuffle(out)
    return out, kept, dropped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="KoBEST v1.0 folder")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ngram", type=int, default=30, help="shared character run that counts as leaked")
    args = ap.parse_args(argv)

    if not (args.data / "BoolQ" / "train.tsv").is_file():
        print(f"KoBEST not found under {args.data}", file=sys.stderr)
        return 2
    docs, kept, dropped = build(args.data, seed=args.seed, ngram=args.ngram)
    text = "".join(d + "\n" for d in docs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(args.out)
    size = len(text.encode("utf-8"))
    print(f"wrote {len(docs)} documents, {size:,} bytes, sha256 {hashlib.sha256(text.encode()).hexdigest()[:16]}")
    for source in TASKS:
        print(f"  {source:10s} kept {kept[source]:5d}  dropped (shares dev/test text) {dropped[source]:4d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
