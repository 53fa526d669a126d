"""Turning suite items into model requests, with few-shot examples in front."""

from __future__ import annotations

from .suite import Suite


def _shots(suite: Suite, k: int) -> str:
    """The first k few-shot examples, each followed by its answer: deterministic, so runs are comparable."""
    if k <= 0:
        return ""
    delim, target = suite.meta.get("fewshot_delimiter", "\n\n"), suite.meta.get("target_delimiter", " ")
    shots = []
    for ex in suite.fewshot[:k]:
        if suite.kind == "multiple_choice":
            shots.append(ex["context"] + target + ex["choices"][ex["answer"]])
        else:
            shots.append(ex["prompt"] + target + str(ex["answer"]))
    return delim.join(shots) + delim


def choice_requests(suite: Suite, item: dict, k: int) -> list[tuple[str, str]]:
    context = _shots(suite, k) + item["context"]
    target = suite.meta.get("target_delimiter", " ")
    return [(context, target + choice) for choice in item["choices"]]


def generation_prompt(suite: Suite, item: dict, k: int) -> str:
    return _shots(suite, k) + item["prompt"]
