#!/usr/bin/env python
"""Dokja's IFEval checkers against lm-evaluation-harness's own ``ifeval`` task, on the same responses.

lm-eval is a benchmark-only peer, never a dependency of Dokja; its ifeval task also needs langdetect,
immutabledict and nltk. Install them with ``pip install -e '.[bench]'``, then:

    python benchmarks/ifeval_compare.py

What it measures, in one run over IFEval's 541 prompts and GPT-4's 541 published responses (shared data
directory, ``ifeval/``; paired line by line, as key 2785's response is keyed by an older wording of its prompt):
1. agreement of the verdicts, Dokja's ``ifeval.score`` against lm-eval's ``process_results``: per instruction
   and per prompt, strict and loose, as equal/total; every disagreeing (key, instruction id) with a reason where
   one can be told;
2. seconds for each side to score all responses (best of ``--repeats``), and the ratio;
3. ends with ``RESULT {json}``.

Made deterministic on lm-eval's side, and said so in the output: langdetect is seeded (``DetectorFactory.seed =
0``) and Python's ``random`` is seeded before each lm-eval pass (lm-eval draws a random letter for a
letter-frequency check whose "letter" is not a-z). nltk's trained Punkt model is usually not installed and cannot
be downloaded offline; then lm-eval's sentence tokenizer (``length_constraints:number_sentences``) and the
sentence split inside ``nltk.word_tokenize`` (``change_case:capital_word_frequency``) are given nltk's untrained
``PunktSentenceTokenizer()`` instead, the output says so, and agreement is also reported without those two.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import socket
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dokja.harness import SuiteError, ifeval  # noqa: E402
from dokja.harness.ifeval_checks import count_sentences, count_words, detect_language, word_tokens  # noqa: E402

PROMPTS = "input_data.jsonl"
RESPONSES = "input_response_data_gpt4_20231107_145030.jsonl"
PUNKT_IDS = ("length_constraints:number_sentences", "change_case:capital_word_frequency")
LANGDETECT_IDS = ("language:response_language", "change_case:english_capital", "change_case:english_lowercase")


@dataclasses.dataclass(frozen=True)
class Pair:
    """One IFEval prompt (its `input_data.jsonl` row) and GPT-4's response on the same line."""
    row: dict
    response: str
    same_prompt: bool  # the response file's prompt text equals the row's


@dataclasses.dataclass(frozen=True)
class Verdicts:
    strict: list[bool]
    loose: list[bool]


@dataclasses.dataclass(frozen=True)
class Agreement:
    """Equal verdicts / total, per instruction and per prompt (a prompt's verdict: all its instructions)."""
    inst_total: int
    inst_strict: int
    inst_loose: int
    prompt_total: int
    prompt_strict: int
    prompt_loose: int

    def fractions(self) -> dict[str, float]:
        return {"inst_strict": self.inst_strict / self.inst_total, "inst_loose": self.inst_loose / self.inst_total,
                "prompt_strict": self.prompt_strict / self.prompt_total,
                "prompt_loose": self.prompt_loose / self.prompt_total}

    def line(self) -> str:
        return (f"instructions strict {self.inst_strict}/{self.inst_total}, loose {self.inst_loose}/{self.inst_total}"
                f"; prompts strict {self.prompt_strict}/{self.prompt_total},"
                f" loose {self.prompt_loose}/{self.prompt_total}")


def fail(message: str) -> None:
    print(f"FAILED: {message}", flush=True)
    raise SystemExit(1)


def read_jsonl(path: Path, fields: tuple[str, ...]) -> list[dict]:
    """The file's rows; a missing file, bad JSON or a missing field is one line naming the file and line."""
    if not path.is_file():
        fail(f"{path}: not found (the shared data directory's ifeval/ folder; see --data)")
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            fail(f"{path}: line {n}: not JSON ({e.msg})")
        if missing := [f for f in fields if f not in row]:
            fail(f"{path}: line {n}: missing field {missing[0]!r}")
        rows.append(row)
    return rows


def load_pairs(folder: Path) -> list[Pair]:
    prompts = read_jsonl(folder / PROMPTS, ("key", "prompt", "instruction_id_list", "kwargs"))
    responses = read_jsonl(folder / RESPONSES, ("prompt", "response"))
    if len(prompts) != len(responses):
        fail(f"{folder / RESPONSES}: {len(responses)} responses for {len(prompts)} prompts in {PROMPTS}")
    return [Pair(p, r["response"], p["prompt"] == r["prompt"]) for p, r in zip(prompts, responses)]


def prepare_lmeval() -> str:
    """Import lm-eval's ifeval offline and deterministically; returns which Punkt model its sentence count uses."""
    import nltk
    import nltk.tokenize

    socket.setdefaulttimeout(10)  # lm-eval calls nltk.download("punkt_tab") at import; offline it must fail fast
    try:
        from lm_eval.tasks.ifeval import instructions_util, utils  # noqa: F401
    except ImportError as e:
        fail(f"lm-eval's ifeval task cannot be imported ({e}): pip install -e '.[bench]'")
    finally:
        socket.setdefaulttimeout(None)
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0
    untrained = nltk.tokenize.PunktSentenceTokenizer()
    try:
        instructions_util._get_sentence_tokenizer()
        punkt = "trained english.pickle"
    except LookupError:
        instructions_util._get_sentence_tokenizer = lambda: untrained
        punkt = "untrained stand-in"
    try:
        nltk.data.find("tokenizers/punkt_tab/english/")
    except LookupError:  # nltk.word_tokenize splits sentences with punkt_tab before the Treebank tokenizer
        nltk.tokenize._get_punkt_tokenizer = lambda language="english": untrained
        punkt += "; word_tokenize: untrained stand-in"
    return punkt


def lmeval_verdicts(pairs: list[Pair]) -> list[Verdicts]:
    from lm_eval.tasks.ifeval.utils import process_results

    random.seed(0)
    out = []
    for p in pairs:
        got = process_results(p.row, [p.response])
        out.append(Verdicts(got["inst_level_strict_acc"], got["inst_level_loose_acc"]))
    return out


def dokja_verdicts(pairs: list[Pair]) -> list[Verdicts]:
    out = []
    for p in pairs:
        try:
            _, detail = ifeval.score(dict(p.row, id=p.row["key"]), p.response)
        except SuiteError as e:
            fail(f"{PROMPTS}: {e}")
        out.append(Verdicts(detail["strict"], detail["loose"]))
    return out


def agreement(pairs: list[Pair], ours: list[Verdicts], theirs: list[Verdicts], skip: tuple[str, ...] = ()) -> Agreement:
    inst = [0, 0, 0]
    prompt = [0, 0, 0]
    for p, a, b in zip(pairs, ours, theirs):
        keep = [i for i, iid in enumerate(p.row["instruction_id_list"]) if iid not in skip]
        if not keep:
            continue
        prompt[0] += 1
        inst[0] += len(keep)
        for slot, (x, y) in enumerate(((a.strict, b.strict), (a.loose, b.loose)), 1):
            inst[slot] += sum(x[i] == y[i] for i in keep)
            prompt[slot] += all(x[i] for i in keep) == all(y[i] for i in keep)
    return Agreement(inst[0], inst[1], inst[2], prompt[0], prompt[1], prompt[2])


# The loose variants' names, in the order of `ifeval.loose_variants` (which is lm-eval's).
VARIANTS = tuple(f"the response{how}" for how in (
    "", " without '*'", " without its first line", " without its last line", " without both",
    " without its first line and '*'", " without its last line and '*'", " without both and '*'"))


def counters(iid: str) -> tuple[str, str, str, Callable[[str], int], Callable[[str], int]] | None:
    """For a counting instruction: what it counts, its relation and number arguments, lm-eval's and Dokja's
    counters."""
    from lm_eval.tasks.ifeval import instructions_util as lm

    return {
        "length_constraints:number_sentences": ("sentences", "relation", "num_sentences", lm.count_sentences,
                                                count_sentences),
        "length_constraints:number_words": ("words", "relation", "num_words", lm.count_words, count_words),
        "change_case:capital_word_frequency": (
            "capital words", "capital_relation", "capital_frequency",
            lambda t: sum(w.isupper() for w in lm.nltk.word_tokenize(t)),
            lambda t: sum(w.isupper() for w in word_tokens(t))),
    }.get(iid)


def reason(iid: str, kwargs: dict, texts: list[str]) -> str:
    """Why the two sides may differ on this instruction, where one can tell; `texts` are the response's
    variants that decide the differing verdict (the response itself for strict, all eight for loose)."""
    from langdetect import LangDetectException, detect

    if iid == "keywords:letter_frequency":
        letter = str(kwargs.get("letter", "")).strip()
        if not (len(letter) == 1 and "a" <= letter.lower() <= "z"):
            return f"lm-eval draws a random letter for {letter!r}; Dokja counts {letter!r} itself"
    if iid in LANGDETECT_IDS:
        try:
            found = detect(texts[0])
        except LangDetectException:
            found = "none"
        return f"langdetect (seed 0) says {found!r}, Dokja's script/word rule says {detect_language(texts[0])!r}"
    if (counting := counters(iid)) is not None:
        what, relation, number, theirs, ours = counting
        for name, text in zip(VARIANTS, texts):
            if (a := theirs(text)) != (b := ours(text)):
                return (f"{kwargs[relation]} {kwargs[number]} {what}: on {name} lm-eval counts {a},"
                        f" Dokja counts {b}")
    return "not diagnosed"


def disagreements(pairs: list[Pair], ours: list[Verdicts], theirs: list[Verdicts]) -> list[dict]:
    out = []
    for p, a, b in zip(pairs, ours, theirs):
        for i, iid in enumerate(p.row["instruction_id_list"]):
            modes = [m for m, x, y in (("strict", a.strict, b.strict), ("loose", a.loose, b.loose)) if x[i] != y[i]]
            if modes:
                texts = [p.response] if "strict" in modes else ifeval.loose_variants(p.response)
                out.append({"key": p.row["key"], "instruction": iid, "modes": modes,
                            "dokja": [a.strict[i], a.loose[i]], "lmeval": [b.strict[i], b.loose[i]],
                            "reason": reason(iid, p.row["kwargs"][i], texts)})
    return out


def best_seconds(score, pairs: list[Pair], repeats: int) -> tuple[float, list[Verdicts]]:
    best, got = float("inf"), []
    for _ in range(repeats):
        start = time.perf_counter()
        got = score(pairs)
        best = min(best, time.perf_counter() - start)
    return best, got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="IFEval lives here")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per side (the best is reported)")
    args = parser.parse_args(argv)
    pairs = load_pairs(args.data / "ifeval")
    unjoined = [p.row["key"] for p in pairs if not p.same_prompt]
    n_inst = sum(len(p.row["instruction_id_list"]) for p in pairs)
    print(f"{len(pairs)} prompts, {n_inst} instructions; response keyed by another prompt wording: {unjoined}")
    punkt = prepare_lmeval()
    print(f"lm-eval: langdetect seeded 0, random seeded 0 per pass; Punkt: {punkt}")
    if "untrained" in punkt:
        print("  (no trained Punkt model installed, and lm-eval's import-time download cannot fetch one offline:"
              f" {' and '.join(PUNKT_IDS)} use nltk's untrained PunktSentenceTokenizer() on lm-eval's side)")

    lm_s, theirs = best_seconds(lmeval_verdicts, pairs, args.repeats)
    ours_s, ours = best_seconds(dokja_verdicts, pairs, args.repeats)
    every = agreement(pairs, ours, theirs)
    no_punkt = agreement(pairs, ours, theirs, PUNKT_IDS)
    differ = disagreements(pairs, ours, theirs)
    print(f"agreement, all instructions: {every.line()}")
    print(f"agreement, without {' and '.join(PUNKT_IDS)}: {no_punkt.line()}")
    print(f"disagreements ({len(differ)}; verdicts as [strict, loose]):")
    for d in differ:
        print(f"  {d['key']:>5} {d['instruction']:<40} {'+'.join(d['modes']):<12} Dokja {d['dokja']}"
              f" lm-eval {d['lmeval']}: {d['reason']}")
    print(f"seconds for {len(pairs)} responses (best of {args.repeats}): lm-eval {lm_s:.3f}, Dokja {ours_s:.3f},"
          f" lm-eval/Dokja {lm_s / ours_s:.2f}x")
    result = {
        "prompts": len(pairs), "instructions": n_inst, "unjoined_keys": unjoined, "punkt": punkt,
        "langdetect_seed": 0, "random_seed": 0,
        "agreement": every.fractions(), "counts": dataclasses.asdict(every),
        "agreement_without_punkt": no_punkt.fractions(), "counts_without_punkt": dataclasses.asdict(no_punkt),
        "punkt_ids": list(PUNKT_IDS),
        "disagreements": [[d["key"], d["instruction"], "+".join(d["modes"])] for d in differ],
        "lmeval_seconds": lm_s, "dokja_seconds": ours_s, "repeats": args.repeats,
        "ratio_lmeval_to_dokja": lm_s / ours_s,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
