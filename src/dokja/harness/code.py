"""Functional correctness: a model's program is run against the item's tests in the sandbox, never trusted.

Two shapes of item, told apart by their fields:
- `test` (HumanEval, MBPP): the program is the item's code prefix (`code.prefix = true`: HumanEval's prompt,
  which the completion continues) + the model's code + the test code, then `check(entry_point)` when the item
  names one. It passes when it exits cleanly: a failed assert is "failed", any other exception "error".
- `cases` (LiveCodeBench's stdin/stdout problems): the program alone, run once per case with its input; it
  passes when every output equals the expected one after trailing whitespace is stripped (each line's, and
  the whole output's).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .sandbox import Execution, Limits, Sandbox

_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
PYTHON_TAGS = ("python", "py", "python3", "")


def extract_code(text: str) -> str:
    """The code in a model's answer: its first Python (or untagged) fenced block, else the first fenced block of
    any language; a completion model continuing a prompt that opened the block writes code up to the closing
    fence; with no fence at all, the whole text is the code."""
    head, fence, rest = text.partition("```")
    if fence and head.strip() and "```" not in rest and not rest.split("\n", 1)[0].strip():
        return head.rstrip() + "\n"  # one untagged fence after code: it closes the block the prompt opened
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(text)]
    for tag, body in blocks:
        if tag in PYTHON_TAGS:
            return body.rstrip() + "\n"
    return blocks[0][1].rstrip() + "\n" if blocks else text


@dataclass(frozen=True)
class Verdict:
    """One program's fate: "passed", "failed", "timeout" or "error" (`reason`: the last line of stderr)."""

    verdict: str
    reason: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def _of(run: Execution) -> Verdict:
    if run.status == "timeout":
        return Verdict("timeout", "time limit", run.seconds)
    if run.status == "killed":
        return Verdict("error", last_line(run.stderr) or f"killed (status {run.returncode})", run.seconds)
    if run.returncode == 0:
        return Verdict("passed", "", run.seconds)
    reason = last_line(run.stderr) or f"exit status {run.returncode}"
    return Verdict("failed" if reason.startswith("AssertionError") else "error", reason, run.seconds)


def same_output(got: str, want: str) -> bool:
    """Outputs equal once each line's and the whole text's trailing whitespace is stripped."""
    def clean(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.rstrip().splitlines())
    return clean(got) == clean(want)


def program_of(item: dict, code: str, prefix: bool) -> str:
    """The program that is run for a test-code item (see the module's docstring)."""
    if prefix:  # a completion continues the prompt's line; a whole function from a fenced block starts anew
        code = item["prompt"] + ("" if code[:1].isspace() else "\n") + code
    parts = [code, item.get("test_setup", ""), item["test"]]
    if item.get("entry_point"):
        parts.append(f"check({item['entry_point']})")
    return "\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"


def judge(sandbox: Sandbox, item: dict, code: str, prefix: bool, limits: Limits) -> tuple[str, Verdict]:
    """The program and its verdict; for stdin/stdout items the first case that does not pass decides."""
    if "cases" not in item:
        program = program_of(item, code, prefix)
        return program, _of(sandbox.run(program, limits=limits))
    seconds = 0.0
    for n, case in enumerate(item["cases"]):
        run = sandbox.run(code, stdin=case["input"], limits=limits)
        seconds += run.seconds
        verdict = _of(run)
        if not verdict.passed:
            return code, Verdict(verdict.verdict, f"case {n}: {verdict.reason}", round(seconds, 4))
        if not same_output(run.stdout, case["output"]):
            return code, Verdict("failed", f"case {n}: wrong output", round(seconds, 4))
    return code, Verdict("passed", "", round(seconds, 4))


def limits_of(meta: dict) -> Limits:
    """The suite's `code.limits` over the defaults; an unknown limit is refused by the suite file's check."""
    return Limits(**(meta.get("code") or {}).get("limits", {}))


def score(sandbox: Sandbox, item: dict, output: str, meta: dict) -> tuple[dict[str, float], dict]:
    """pass@1 for one sample (0 or 1), and what a reader needs to check it: the program, verdict and time."""
    prefix = bool((meta.get("code") or {}).get("prefix", False))
    program, verdict = judge(sandbox, item, extract_code(output), prefix, limits_of(meta))
    return {"pass@1": float(verdict.passed)}, {"output": output, "program": program, **asdict(verdict)}


def check_code_items(items: list[dict]) -> None:
    """A code item carries test code or stdin/stdout cases; refused when the suite is read, not when run."""
    for item in items:
        cases = item.get("cases")
        if cases is None and not isinstance(item.get("test"), str):
            raise ValueError(f"item {item.get('id')}: a code item needs `test` (code) or `cases` (stdin/stdout)")
        if cases is not None and (not isinstance(cases, list) or not cases or not all(
                isinstance(c, dict) and isinstance(c.get("input"), str) and isinstance(c.get("output"), str)
                for c in cases)):
            raise ValueError(f"item {item.get('id')}: `cases` must be a list of {{input, output}} strings")
