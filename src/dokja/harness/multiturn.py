"""Conversations: items of several user turns, answered turn by turn and judged turn by turn.

An item's first turn is its `prompt` (reference: its `answer`), the later ones its `followups` (references:
`followup_answers`, optional), as in LogicKor's two-turn questions, whose second turn depends on the first
answer. The model answers turn 1, then turn 2 given the conversation so far (a `models.base.Prompt`
conversation: the local backend renders it with the chat template, an endpoint sends it as chat messages).
The judge grades every turn given the turns before it, by a score or pairwise against the references
(`judge_pairwise`); the item's metric is the turns' mean, each turn's kept beside it. A single-turn judged
item is a one-turn conversation, judged the same way. Conversations are zero-shot; a suite's `description`
is their system message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models.base import Backend, Failed
from .judge import JudgeCall, JudgeSetup, Turn, ask, read_scores, score_prompts, suite_file
from .judge_pairwise import OUTCOMES, pair_prompts, read_verdicts
from .reasoning import item_measures, split_thinking
from .suite import Suite, SuiteError

GENERATION = "generation"
MEASURES = ("prompt_tokens", "reasoning_tokens", "answer_tokens", "seconds")
METRICS = {"score": re.compile(r"rubric(_turn\d+)?"), "pairwise": re.compile(r"win_rate(_turn\d+)?|consistent")}


@dataclass(frozen=True)
class Judged:
    """One item's judgement: its metrics (none when it failed, with the reason), each turn's score or verdict,
    and every call to the judge, which go into the item's record."""

    metrics: dict[str, float]
    failed: str
    model: str
    mode: str
    calls: tuple[JudgeCall, ...]
    turns: tuple[dict, ...]

    def record(self) -> dict:
        """What the item's detail keeps: the judge's name, the exact prompts sent and the raw replies."""
        out = {"model": self.model, "mode": self.mode, "prompts": [c.prompt for c in self.calls],
               "replies": [c.reply for c in self.calls], "turns": list(self.turns)}
        if any(c.failed for c in self.calls):
            out["errors"] = [c.failed for c in self.calls]
        return out


def is_multiturn(suite: Suite) -> bool:
    return any("followups" in item for item in suite.items)


def turns_of(item: dict) -> tuple[list[str], list[str]]:
    """An item's questions and their references ("" where it gives none)."""
    questions = [item["prompt"], *item.get("followups", [])]
    references = [str(item.get("answer", "")), *item.get("followup_answers", [])]
    return questions, references + [""] * (len(questions) - len(references))


def check_suite(suite: Suite) -> None:
    """Refuse, before anything runs, a judged suite the judge could not grade: followups that are not texts,
    references that do not match them, a metric the judge's mode does not give, pairwise judging without a
    reference for every turn."""
    multi, meta_file = is_multiturn(suite), suite_file(suite, "suite.toml")
    if suite.meta.get("scorer") != "rubric":
        if multi:
            raise SuiteError(f'{meta_file}: scorer: multi-turn items (followups) are judged: set scorer = "rubric"')
        return
    setup = JudgeSetup.from_suite(suite)
    if not METRICS[setup.mode].fullmatch(str(suite.meta.get("metric"))):
        given = "win_rate or consistent" if setup.mode == "pairwise" else "rubric"
        raise SuiteError(f"{meta_file}: metric: judge.mode {setup.mode!r} gives {given}, "
                         f"not {suite.meta.get('metric')!r}")
    items_file = suite_file(suite, "items.jsonl")
    for item in suite.items:
        followups, answers = item.get("followups", []), item.get("followup_answers", [])
        if not isinstance(followups, list) or not all(isinstance(q, str) and q.strip() for q in followups):
            raise SuiteError(f"{items_file}: item {item['id']}: followups: expected a list of non-empty texts")
        if "followup_answers" in item and (not isinstance(answers, list) or len(answers) != len(followups)
                                           or not all(isinstance(a, str) for a in answers)):
            raise SuiteError(f"{items_file}: item {item['id']}: followup_answers: expected one text per followup")
        if setup.mode == "pairwise" and not all(r.strip() for r in turns_of(item)[1]):
            raise SuiteError(f"{items_file}: item {item['id']}: answer: pairwise judging compares with a "
                             "reference answer, and a turn has none")


def conversation(questions: list[str], answers: list[str], system: str = "") -> list[dict]:
    """The messages a model answers next: each question, and after each earlier one the model's answer."""
    messages = [{"role": "system", "content": system}] if system else []
    for n, question in enumerate(questions):
        messages.append({"role": "user", "content": question})
        if n < len(answers):
            messages.append({"role": "assistant", "content": answers[n]})
    return messages


def answer_turns(backend: Backend, suite: Suite, items: list[dict]) -> list[list]:
    """Every item's answers, turn by turn; the next turn sees the answers without their thinking. An item stops
    at its first failed turn, whose `Failed` ends its list."""
    gen = suite.meta.get("generate", {})
    options = dict(max_new_tokens=gen.get("max_new_tokens", 32), stop=gen.get("stop", ["\n"]))
    system = suite.meta.get("description", "")
    questions = [turns_of(item)[0] for item in items]
    answers: list[list] = [[] for _ in items]
    for turn in range(max(map(len, questions), default=0)):
        todo = [n for n, qs in enumerate(questions)
                if turn < len(qs) and not any(isinstance(a, Failed) for a in answers[n])]
        prompts = [conversation(questions[n][:turn + 1], [str(split_thinking(a)[1]) for a in answers[n]], system)
                   for n in todo]
        for n, got in zip(todo, backend.generate(prompts, **options) if prompts else [], strict=True):
            answers[n].append(got)
    return answers


def judge_dialogues(judge: Backend, setup: JudgeSetup, dialogues: list[list[Turn]]) -> list[Judged]:
    """Every turn of every conversation judged, in one batch of requests: a score per turn, or a verdict per
    turn asked in both orders."""
    per_item = [score_prompts(setup.rubric, d) if setup.mode == "score" else pair_prompts(setup, d)
                for d in dialogues]
    calls = ask(judge, [p for prompts in per_item for p in prompts], setup.max_new_tokens)
    out, at = [], 0
    for prompts in per_item:
        out.append(_judged(setup, str(getattr(judge, "name", "")), calls[at:at + len(prompts)]))
        at += len(prompts)
    return out


def _judged(setup: JudgeSetup, model: str, calls: list[JudgeCall]) -> Judged:
    if setup.mode == "score":
        scores, failed = read_scores(setup.rubric, calls)
        turns = [{"score": s} for s in scores]
        metrics = {} if failed else per_turn("rubric", scores)
    else:
        turns, failed = read_verdicts(calls)
        metrics = {} if failed else {
            **per_turn("win_rate", [OUTCOMES[t["outcome"]] for t in turns]),
            "consistent": sum(t["outcome"] != "inconsistent" for t in turns) / len(turns)}
    return Judged(metrics, failed, model, setup.mode, tuple(calls), tuple(turns))


def per_turn(name: str, values: list[float]) -> dict[str, float]:
    """The turns' mean as `name`, and with several turns each one's as `name_turn1`, `name_turn2`, …"""
    out = {name: sum(values) / len(values)}
    if len(values) > 1:
        out |= {f"{name}_turn{n}": v for n, v in enumerate(values, 1)}
    return out


def conversation_chunk(suite: Suite, items: list[dict], backend: Backend,
                       judge: Backend | None) -> list[tuple[dict, dict]]:
    """Conversation items answered and judged turn by turn; a failed turn, a failed judge or an unreadable
    reply fails the item (kept with its reason and record, retried on resume), never scores it 0."""
    if judge is None:
        raise SuiteError(f"suite {suite.id}: the rubric scorer needs a judge model (judge.model)")
    setup = JudgeSetup.from_suite(suite)
    out: list[tuple[dict, dict]] = []
    waiting, dialogues = [], []
    for item, answers in zip(items, answer_turns(backend, suite, items)):
        questions, references = turns_of(item)
        turns = [_turn_detail(q, a) for q, a in zip(questions, answers)]
        detail = {"method": GENERATION, "turns": turns, **_summed(turns)}
        bad = next((a for a in answers if isinstance(a, Failed)), None)
        out.append(({}, {**detail, "failed": bad.reason}) if bad else ({}, detail))
        if bad is None:
            waiting.append(len(out) - 1)
            dialogues.append([Turn(q, t["output"], r) for q, t, r in zip(questions, turns, references)])
    for n, judged in zip(waiting, judge_dialogues(judge, setup, dialogues)):
        detail = {**out[n][1], "judge": judged.record()}
        out[n] = ({}, {**detail, "failed": judged.failed}) if judged.failed else (judged.metrics, detail)
    return out


def _turn_detail(question: str, answer) -> dict:
    if isinstance(answer, Failed):
        return {"question": question, "failed": answer.reason}
    thinking, text = split_thinking(answer)
    return {"question": question, "output": str(text), **item_measures(answer, thinking)}


def _summed(turns: list[dict]) -> dict:
    """The turns' tokens and seconds added up, where the item's cost is read."""
    out = {}
    for measure in MEASURES:
        values = [t[measure] for t in turns if measure in t]
        if values:
            out[measure] = round(sum(values), 4) if measure == "seconds" else sum(values)
    return out
