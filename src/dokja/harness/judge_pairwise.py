"""Pairwise judging against the suite's reference answer, asked in both orders.

A judge model tends to prefer whichever answer it reads first (or second), so each comparison is asked twice:
the model's answer as assistant A and the reference as B, then the other way round. Only a verdict that
survives the swap counts: the model wins if the judge picks it in both orders, loses if it picks the reference
in both, ties if it calls a tie in both; anything else is "inconsistent" and counts as a tie (MT-Bench's rule).
The verdict is read as MT-Bench asks for it ("[[A]]", "[[B]]", "[[C]]" for a tie), in English or Korean; a
reply with no readable verdict fails the item, never counts as a loss.
"""

from __future__ import annotations

import re
import unicodedata

from .judge import JudgeCall, JudgeSetup, Turn, transcript

PROMPT = {
    "en": ("Act as an impartial judge. Compare the two assistants' answers to the user's last question in the "
           "conversations below and decide which answer is better: more correct, helpful, relevant and complete, "
           "and in the language the user asked in. {criteria}Do not let the order in which the conversations "
           "appear, the length of the answers or the assistants' names influence you. Explain your judgement "
           "briefly, then end with your verdict in exactly this form: [[A]] if assistant A is better, [[B]] if "
           "assistant B is better, [[C]] for a tie.\n\n"
           "[Conversation with assistant A]\n{a}\n[End of the conversation with assistant A]\n\n"
           "[Conversation with assistant B]\n{b}\n[End of the conversation with assistant B]"),
    "ko": ("공정한 심판으로서, 아래 두 대화에서 사용자의 마지막 질문에 대한 두 어시스턴트의 답변을 비교하여 어느 답변이 "
           "더 나은지 판단하세요. 더 정확하고, 도움이 되고, 질문에 맞고, 충실하며, 사용자가 질문한 언어로 답한 쪽이 "
           "낫습니다. {criteria}대화가 놓인 순서, 답변의 길이, 어시스턴트의 이름에 영향을 받지 마세요. 판단 이유를 "
           "짧게 설명한 뒤, 마지막에 정확히 다음 형식으로 판정을 쓰세요: 어시스턴트 A가 낫다면 [[A]], 어시스턴트 B가 "
           "낫다면 [[B]], 비슷하다면 [[C]].\n\n"
           "[어시스턴트 A와의 대화]\n{a}\n[어시스턴트 A와의 대화 끝]\n\n"
           "[어시스턴트 B와의 대화]\n{b}\n[어시스턴트 B와의 대화 끝]"),
}
CRITERIA = {"en": "Judge by this rubric: {rubric} ", "ko": "다음 기준으로 판단하세요: {rubric} "}

_CHOICE = r"((?-i:[ABC])|tie|draw|동점|무승부|비김|비슷)(?![A-Za-z])"  # letters as capitals: "a tie" is a tie
_PATTERNS = [  # a bracketed letter that only repeats the instructions ("[[A]] if …", "… 낫다면 [[A]]") is no verdict
    re.compile(rf"(?<!다면 )\[\[\s*{_CHOICE}\s*\]\](?!\s*(?:if\b|for a tie))", re.IGNORECASE),
    re.compile(r"(?:final verdict|verdict|final answer|최종\s*판정|판정|최종\s*답|결론)\s*(?:is|은|는)?\s*[:：]?\s*"
               rf"\[?\s*(?:a\s+)?{_CHOICE}", re.IGNORECASE),
    re.compile(r"(?<![A-Za-z])(?<!if )(?:assistant|어시스턴트)\s*((?-i:[AB]))(?![A-Za-z])\s*"
               r"(?:is better|(?:가|이)\s*더\s*(?:낫|좋|우수)(?!다면))", re.IGNORECASE),
]
# What each letter means for the model, with its answer shown as A (first order) or as B (second order).
_AS_A = {"A": "model", "B": "reference", "C": "tie"}
_AS_B = {"A": "reference", "B": "model", "C": "tie"}
OUTCOMES = {"win": 1.0, "tie": 0.5, "inconsistent": 0.5, "loss": 0.0}  # win_rate of each outcome


def parse_verdict(reply: str) -> str | None:
    """"A", "B" or "C" (a tie), or None when the reply gives no verdict.

    "[[A]]" wins, the last of them if several (a judge may revise itself); then "Verdict: A", "Final answer: C",
    "최종 판정: B"; then "Assistant A is better" / "어시스턴트 B가 더 낫다"; then a reply that is only the letter."""
    text = unicodedata.normalize("NFKC", reply).replace("*", "")
    for pattern in _PATTERNS:
        found = pattern.findall(text)
        if found:
            return _letter(found[-1])
    bare = text.strip().strip("[]().:").strip()
    return _letter(bare) if re.fullmatch(_CHOICE, bare, re.IGNORECASE) else None


def _letter(word: str) -> str:
    return word if word in ("A", "B") else "C"


def outcome_of(model_as_a: str, model_as_b: str) -> str:
    """"win", "loss", "tie" or "inconsistent", from the letters given with the model's answer as A, then as B."""
    first, second = _AS_A[model_as_a], _AS_B[model_as_b]
    if first != second:
        return "inconsistent"
    return {"model": "win", "reference": "loss", "tie": "tie"}[first]


def pair_prompt(setup: JudgeSetup, turns: list[Turn], model_first: bool) -> str:
    """The comparison of the last turn's answers: the model's conversation and the reference's, in one order."""
    lang = setup.language
    references = [Turn(t.question, t.reference) for t in turns]
    a, b = (turns, references) if model_first else (references, turns)
    criteria = CRITERIA[lang].format(rubric=setup.rubric.text) if setup.rubric else ""
    return PROMPT[lang].format(criteria=criteria, a=transcript(a, lang, "A"), b=transcript(b, lang, "B"))


def pair_prompts(setup: JudgeSetup, turns: list[Turn]) -> list[str]:
    """Two requests per turn (model as A, then as B), each turn given the conversation before it."""
    return [pair_prompt(setup, turns[:i + 1], first) for i in range(len(turns)) for first in (True, False)]


def read_verdicts(calls: list[JudgeCall]) -> tuple[list[dict], str]:
    """Each turn's verdict ({"model_as_a", "model_as_b", "outcome"}) from its two calls, and why the item fails
    ("" when it does not): a judge that failed, or a reply with no readable verdict."""
    failed = next((f"the judge failed: {c.failed}" for c in calls if c.failed), "")
    letters = [None if c.failed else parse_verdict(c.answer) for c in calls]
    if not failed and None in letters:
        failed = "the judge gave no readable verdict"
    turns = []
    for first, second in zip(letters[::2], letters[1::2]):
        verdict = {"model_as_a": first, "model_as_b": second}
        if first is not None and second is not None:
            verdict["outcome"] = outcome_of(first, second)
        turns.append(verdict)
    return turns, failed
