"""Turning suite items into model requests, with few-shot examples in front.

Which examples an item gets is the suite's `fewshot_sampler`: "first" (the first k in file order, the same for
every item) or "lmeval" (lm-evaluation-harness's default sampler: one generator seeded with `fewshot_seed`,
1234 by default, drawing for every document in turn). Under "lmeval" an item's examples depend on its place
among the suite's items, so they are computed from the whole item order: a resumed run, or one with a limit,
gets the examples lm-eval gives the same document.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from random import Random
from string import ascii_uppercase
from typing import Hashable, Sequence

from .suite import Suite, SuiteError

SAMPLERS = ("first", "lmeval")
LMEVAL_SEED = 1234  # lm-eval's default few-shot seed

# Chat models that cannot give log-likelihoods answer multiple choice with a letter.
LETTER_INSTRUCTION = {
    "ko": "다음 질문에 알맞은 선택지의 알파벳 하나로 답하세요.",
    "en": "Answer the following question with the letter of the correct option.",
}
LETTER_CUE = {"ko": "정답:", "en": "Answer:"}


def lmeval_draws(pool: Sequence[Hashable], docs: Sequence[Hashable], k: int, seed: int = LMEVAL_SEED,
                 exclude_self: bool = False) -> list[list[int]]:
    """For each document in order, the pool indices lm-eval's default sampler picks for it.

    One `random.Random(seed)` serves all documents in turn: `sample(pool, k)`, or, when the examples come from
    the split being evaluated, `sample(pool, k + 1)` less every copy of the document, cut to k (and if copies
    leave fewer than k, a new `sample` of the pool without the document). `pool` and `docs` are compared by
    equality only, so content keys stand in for documents."""
    if k <= 0:
        return [[] for _ in docs]
    rnd, everyone = Random(seed), range(len(pool))
    out = []
    for doc in docs:
        if not exclude_self:
            out.append(rnd.sample(everyone, k))
            continue
        picks = [j for j in rnd.sample(everyone, k + 1) if pool[j] != doc][:k]
        if len(picks) < k:
            picks = rnd.sample([j for j in everyone if pool[j] != doc], k)
        out.append(picks)
    return out


def first_draws(pool: Sequence[Hashable], doc: Hashable, k: int, exclude_self: bool = False) -> list[int]:
    """lm-eval's `first_n`: the first k of the pool, the document itself left out when it could be there."""
    return [j for j in range(len(pool)) if not (exclude_self and pool[j] == doc)][:max(k, 0)]


def sampler_of(meta: dict, where: str) -> tuple[str, int]:
    """The suite's sampler and seed, checked; one-line errors name `where` and the field."""
    name, seed = meta.get("fewshot_sampler", "first"), meta.get("fewshot_seed", LMEVAL_SEED)
    if name not in SAMPLERS:
        raise SuiteError(f"{where}: fewshot_sampler: {name!r} is not a sampler ({', '.join(SAMPLERS)})")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SuiteError(f"{where}: fewshot_seed: expected a whole number, found {seed!r}")
    return name, seed


def same_split(meta: dict) -> bool:
    """Whether a suite file takes its few-shot examples from the rows it evaluates (lm-eval then leaves each
    document out of its own examples)."""
    data = (meta.get("definition") or {}).get("data") or {}
    split, files = data.get("split"), data.get("files")
    if split is None and isinstance(files, dict) and files:
        split = "test" if "test" in files else next(iter(files))
    shots = data.get("fewshot_split")
    return shots is not None and shots == split and not data.get("fewshot_path")


def _content(item: dict) -> str:
    """An item as lm-eval compares documents: by what it holds, not by its id."""
    return json.dumps({k: v for k, v in item.items() if k != "id"}, sort_keys=True, ensure_ascii=False)


@dataclass
class _Draws:
    items: list  # the lists these were computed from (held, so their identity stays theirs)
    fewshot: list
    sizes: tuple[int, int]
    position: dict[str, int]
    picks: list[list[int]]


_CACHE: OrderedDict[tuple, _Draws] = OrderedDict()


def _lmeval_picks(suite: Suite, item: dict, k: int, seed: int, exclude: bool) -> list[int]:
    """The item's draws, from draws computed once per suite item order (the generator runs through all)."""
    key = (id(suite), k, seed, exclude)
    got = _CACHE.get(key)
    sizes = (len(suite.items), len(suite.fewshot))
    if got is None or got.items is not suite.items or got.fewshot is not suite.fewshot or got.sizes != sizes:
        pool = [_content(ex) if exclude else None for ex in suite.fewshot]  # compared only when excluding
        docs = [_content(it) if exclude else None for it in suite.items]
        need = k + 1 if exclude else k
        if need > len(pool):
            raise SuiteError(f"suite {suite.id}: {k} few-shot examples asked, but the lmeval sampler needs "
                             f"{need} and the suite has {len(pool)}")
        got = _Draws(suite.items, suite.fewshot, sizes, {it["id"]: n for n, it in enumerate(suite.items)},
                     lmeval_draws(pool, docs, k, seed, exclude))
        _CACHE[key] = got
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    at = got.position.get(item.get("id"))
    if at is None:
        raise SuiteError(f"suite {suite.id}: item {item.get('id')!r} is not among its items; the lmeval "
                         "sampler draws by an item's place")
    return got.picks[at]


def examples(suite: Suite, item: dict, k: int) -> list[dict]:
    """The few-shot examples shown before `item`, by the suite's sampler."""
    if k <= 0:
        return []
    name, seed = sampler_of(suite.meta, f"suite {suite.id}")
    exclude = same_split(suite.meta)
    if name == "first":
        if not exclude:
            return suite.fewshot[:k]
        picks = first_draws([_content(ex) for ex in suite.fewshot], _content(item), k, exclude)
    else:
        picks = _lmeval_picks(suite, item, k, seed, exclude)
    return [suite.fewshot[j] for j in picks]


def _prefix(suite: Suite) -> str:
    """The suite's description, if any, comes before everything else (as lm-evaluation-harness puts it)."""
    return suite.meta.get("description", "")


def _shots(suite: Suite, item: dict, k: int) -> str:
    """The item's few-shot examples, each followed by its answer."""
    if k <= 0:
        return _prefix(suite)
    delim, target = suite.meta.get("fewshot_delimiter", "\n\n"), suite.meta.get("target_delimiter", " ")
    shots = []
    for ex in examples(suite, item, k):
        if suite.kind == "multiple_choice":
            shots.append(ex["context"] + target + ex["choices"][ex["answer"]])
        else:
            shots.append(ex["prompt"] + target + str(ex["answer"]))
    return _prefix(suite) + delim.join(shots) + delim


def choice_requests(suite: Suite, item: dict, k: int) -> list[tuple[str, str]]:
    context = _shots(suite, item, k) + item["context"]
    target = suite.meta.get("target_delimiter", " ")
    return [(context, target + choice) for choice in item["choices"]]


def generation_prompt(suite: Suite, item: dict, k: int) -> str:
    return _shots(suite, item, k) + item["prompt"]


def _lettered(item: dict, cue: str) -> str:
    options = "\n".join(f"{ascii_uppercase[i]}. {c}" for i, c in enumerate(item["choices"]))
    return f"{item['context'].rstrip()}\n{options}\n{cue}"


def letter_prompt(suite: Suite, item: dict, k: int) -> str:
    """The question with lettered options (A. ..., B. ...), for a model that answers in text.

    Few-shot examples are shown the same way, each followed by its answer letter."""
    lang = "ko" if suite.meta.get("language") == "ko" else "en"
    cue, delim = LETTER_CUE[lang], suite.meta.get("fewshot_delimiter", "\n\n")
    parts = [LETTER_INSTRUCTION[lang]]
    parts += [_lettered(ex, cue) + " " + ascii_uppercase[ex["answer"]] for ex in examples(suite, item, k)]
    parts.append(_lettered(item, cue))
    return _prefix(suite) + delim.join(parts)
