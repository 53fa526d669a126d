"""IFEval-style instruction following: an item's instructions checked on a response, strict and loose.

An item is `{"id", "prompt", "answer": "", "instruction_id_list": [...], "kwargs": [{...}, ...]}`, one kwargs
dict for each instruction (IFEval's `input_data.jsonl` layout; KITE's `instruction` field is the prompt).
The checks themselves live in `ifeval_checks` (see its notes for the Korean counting rules).

Per item the scorer gives `prompt_strict` / `prompt_loose` (1.0 when every instruction is followed) and
`inst_strict` / `inst_loose` (the share of the item's instructions followed), with the counts `n_inst`,
`inst_strict_n` and `inst_loose_n`. IFEval's instruction-level accuracy pools instructions over items:
`sum(inst_strict_n) / sum(n_inst)`, which is `mean(inst_strict_n) / mean(n_inst)` over the same items (see
`pooled`); the mean of `inst_strict` weighs every item alike instead.

Loose scoring (IFEval's upper bound) passes an instruction when any of eight variants of the response passes:
the response itself, without its first line, without its last line, without both, and each of those with
every "*" removed.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from .ifeval_checks import AT_LEAST, CHECKS as IFEVAL_CHECKS, LESS, RELATION_KEYS
from .ifeval_korean import DIRECTIONS, KOREAN_CHECKS
from .suite import SuiteError

CHECKS = {**IFEVAL_CHECKS, **KOREAN_CHECKS}

INSTRUCTION_IDS = tuple(CHECKS)
METRICS = ("prompt_strict", "prompt_loose", "inst_strict", "inst_loose")

# Where a repeat-the-request instruction begins (IFEval's English, KITE's Korean renderings of it).
_REPEAT_START = re.compile(r"(?:^|(?<=\n)|(?<=\\n)|(?<=[.?!]\s))\s*(?:First repeat|첫\s?번째로|먼저|처음에는|처음에|우선)")
_QUOTED = re.compile(r"'([^'\n]+)'")


def derive_request(prompt: str) -> str | None:
    """The request a `combination:repeat_prompt` instruction asks to repeat: the prompt before the last
    sentence that asks for the repetition (KITE's general items leave `prompt_to_repeat` out)."""
    starts = [m.start() for m in _REPEAT_START.finditer(prompt)
              if re.search(r"반복|repeat", prompt[m.start():m.end() + 60], flags=re.IGNORECASE)]
    if not starts:
        return None
    request = prompt[:starts[-1]].strip().removesuffix("\\n").strip()
    return request or None


def derive_source(prompt: str) -> str | None:
    """The sentence a KITE honorifics/numbers prompt quotes ('...') for conversion."""
    m = _QUOTED.search(prompt)
    return m.group(1).strip() if m else None


def completed_kwargs(instruction_id: str, kwargs: Mapping[str, Any] | None, prompt: str) -> dict[str, Any]:
    """The instruction's arguments with empty values dropped (as lm-evaluation-harness does) and those that
    can be read off the prompt filled in: `prompt_to_repeat`, and KITE's `request` and `source`."""
    out = {k: v for k, v in (kwargs or {}).items() if v not in (None, "", [])}
    if instruction_id == "combination:repeat_prompt" and "prompt_to_repeat" not in out:
        if (request := derive_request(prompt)) is not None:
            out["prompt_to_repeat"] = request
    if instruction_id in DIRECTIONS:
        source = out.get("source") or derive_source(prompt)
        if source:
            out["source"] = source
        if "request" not in out:
            # The request to repeat, else the prompt up to the quoted sentence's closing quote.
            request = derive_request(prompt)
            if request is None and source and (at := prompt.find(f"'{source}'")) >= 0:
                request = prompt[:at + len(source) + 2].strip()
            if request:
                out["request"] = request
    return out


def _problem(instruction_id: str, kwargs: Mapping[str, Any]) -> str | None:
    """Why these arguments cannot be checked, or None."""
    if instruction_id not in CHECKS:
        return f"unknown instruction id {instruction_id!r}"
    _, required, optional = CHECKS[instruction_id]
    missing = [k for k in required if k not in kwargs]
    if missing:
        return f"{instruction_id} needs {', '.join(missing)}"
    for key in RELATION_KEYS:
        if key in kwargs and str(kwargs[key]).strip().lower() not in LESS + AT_LEAST:
            return f"{instruction_id}: {key} {kwargs[key]!r} is neither 'less than' nor 'at least'"
    if instruction_id in DIRECTIONS and kwargs["direction_to"] not in DIRECTIONS[instruction_id]:
        return f"{instruction_id}: direction_to {kwargs['direction_to']!r} is not one of {DIRECTIONS[instruction_id]}"
    return None


def prepared(item: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The item's (instruction id, completed kwargs) pairs; a fault is one `SuiteError` line naming the
    item and the instruction id."""
    iid = item.get("id")
    ids, kwargs = item.get("instruction_id_list"), item.get("kwargs")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise SuiteError(f"item {iid}: instruction_id_list must be a non-empty list of instruction ids")
    if kwargs is None:
        kwargs = [{}] * len(ids)
    if not isinstance(kwargs, list) or len(kwargs) != len(ids) or not all(isinstance(k, dict) for k in kwargs):
        raise SuiteError(f"item {iid}: kwargs must be a list of {len(ids)} objects, one for each instruction")
    prompt = str(item.get("prompt") or item.get("instruction") or "")
    out = []
    for instruction_id, raw in zip(ids, kwargs):
        done = completed_kwargs(instruction_id, raw, prompt)
        if (problem := _problem(instruction_id, done)) is not None:
            raise SuiteError(f"item {iid}: {problem}")
        out.append((instruction_id, done))
    return out


def check_items(items: Iterable[Mapping[str, Any]]) -> None:
    """Refuse an item set whose instructions cannot all be checked (for a suite's loader to call)."""
    for item in items:
        prepared(item)


def follows(instruction_id: str, response: str, kwargs: Mapping[str, Any]) -> bool:
    """Whether one response follows one instruction; an empty response follows nothing."""
    check = CHECKS[instruction_id][0]
    return bool(response.strip()) and bool(check(response, dict(kwargs)))


def loose_variants(response: str) -> list[str]:
    """IFEval's eight loose variants of a response (the response itself first)."""
    lines = response.split("\n")
    first, last, both = ("\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(),
                         "\n".join(lines[1:-1]).strip())
    return [response, response.replace("*", ""), first, last, both,
            first.replace("*", ""), last.replace("*", ""), both.replace("*", "")]


def verdicts(item: Mapping[str, Any], response: str) -> tuple[list[bool], list[bool]]:
    """(strict, loose): for each of the item's instructions, whether the response follows it."""
    pairs = prepared(item)
    variants = loose_variants(response)
    strict = [follows(i, response, kw) for i, kw in pairs]
    loose = [s or any(follows(i, v, kw) for v in variants[1:]) for s, (i, kw) in zip(strict, pairs)]
    return strict, loose


def metrics_of(strict: list[bool], loose: list[bool]) -> dict[str, float]:
    n = len(strict)
    return {"prompt_strict": float(all(strict)), "prompt_loose": float(all(loose)),
            "inst_strict": sum(strict) / n, "inst_loose": sum(loose) / n,
            "n_inst": float(n), "inst_strict_n": float(sum(strict)), "inst_loose_n": float(sum(loose))}


def score(item: Mapping[str, Any], response: str) -> tuple[dict[str, float], dict[str, Any]]:
    """Per-item metrics and what to keep beside the output (the instruction ids and both verdict lists)."""
    strict, loose = verdicts(item, response)
    return metrics_of(strict, loose), {"instructions": list(item["instruction_id_list"]),
                                       "strict": strict, "loose": loose}


def pooled(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """IFEval's four headline figures over scored items: prompt-level means, and instruction-level accuracy
    pooled over all instructions (`sum(inst_*_n) / sum(n_inst)`)."""
    rows = [r for r in rows if r]
    if not rows:
        return {}
    n_inst = sum(r["n_inst"] for r in rows)
    return {"prompt_strict": sum(r["prompt_strict"] for r in rows) / len(rows),
            "prompt_loose": sum(r["prompt_loose"] for r in rows) / len(rows),
            "inst_strict": sum(r["inst_strict_n"] for r in rows) / n_inst,
            "inst_loose": sum(r["inst_loose_n"] for r in rows) / n_inst}
