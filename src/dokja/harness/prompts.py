"""Turning suite items into model requests, with few-shot examples in front."""

from __future__ import annotations

from string import ascii_uppercase

from .suite import Suite

# Chat models that cannot give log-likelihoods answer multiple choice with a letter.
LETTER_INSTRUCTION = {
    "ko": "다음 질문에 알맞은 선택지의 알파벳 하나로 답하세요.",
    "en": "Answer the following question with the letter of the correct option.",
}
LETTER_CUE = {"ko": "정답:", "en": "Answer:"}


def _prefix(suite: Suite) -> str:
    """The suite's description, if any, comes before everything else (as lm-evaluation-harness puts it)."""
    return suite.meta.get("description", "")


def _shots(suite: Suite, k: int) -> str:
    """The first k few-shot examples, each followed by its answer: deterministic, so runs are comparable."""
    if k <= 0:
        return _prefix(suite)
    delim, target = suite.meta.get("fewshot_delimiter", "\n\n"), suite.meta.get("target_delimiter", " ")
    shots = []
    for ex in suite.fewshot[:k]:
        if suite.kind == "multiple_choice":
            shots.append(ex["context"] + target + ex["choices"][ex["answer"]])
        else:
            shots.append(ex["prompt"] + target + str(ex["answer"]))
    return _prefix(suite) + delim.join(shots) + delim


def choice_requests(suite: Suite, item: dict, k: int) -> list[tuple[str, str]]:
    context = _shots(suite, k) + item["context"]
    target = suite.meta.get("target_delimiter", " ")
    return [(context, target + choice) for choice in item["choices"]]


def generation_prompt(suite: Suite, item: dict, k: int) -> str:
    return _shots(suite, k) + item["prompt"]


def _lettered(item: dict, cue: str) -> str:
    options = "\n".join(f"{ascii_uppercase[i]}. {c}" for i, c in enumerate(item["choices"]))
    return f"{item['context'].rstrip()}\n{options}\n{cue}"


def letter_prompt(suite: Suite, item: dict, k: int) -> str:
    """The question with lettered options (A. ..., B. ...), for a model that answers in text.

    Few-shot examples are shown the same way, each followed by its answer letter."""
    lang = "ko" if suite.meta.get("language") == "ko" else "en"
    cue, delim = LETTER_CUE[lang], suite.meta.get("fewshot_delimiter", "\n\n")
    parts = [LETTER_INSTRUCTION[lang]]
    parts += [_lettered(ex, cue) + " " + ascii_uppercase[ex["answer"]] for ex in suite.fewshot[:max(k, 0)]]
    parts.append(_lettered(item, cue))
    return _prefix(suite) + delim.join(parts)
