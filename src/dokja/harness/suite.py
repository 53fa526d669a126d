"""A suite on disk: `suite.toml` for what it is, `items.jsonl` and `fewshot.jsonl` for its items."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

BUNDLED = Path(__file__).resolve().parent.parent / "suites"


def local_suites() -> Path:
    """Where imported suites live: `DOKJA_SUITES`, or `.dokja/suites`."""
    return Path(os.environ.get("DOKJA_SUITES", Path(".dokja") / "suites"))


class SuiteError(ValueError):
    """A suite that cannot be read; one line naming the file and the fault."""


@dataclass
class Suite:
    id: str
    meta: dict[str, Any]
    items: list[dict[str, Any]]
    fewshot: list[dict[str, Any]] = field(default_factory=list)
    path: Path | None = None

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def metric(self) -> str:
        return self.meta["metric"]

    @property
    def sha256(self) -> str:
        """Commitment to the exact item set, so a score can be tied to what was asked."""
        return commitment_of(self.items)


def budgeted(meta: dict[str, Any], max_new_tokens: int | None) -> dict[str, Any]:
    """A suite's settings under the programme's answer budget: `generate.max_new_tokens` replaced, and the
    budget kept as `budget`, which the run's configuration records (a run with another budget is another run)."""
    if max_new_tokens is None:
        return meta
    return {**meta, "generate": {**meta.get("generate", {}), "max_new_tokens": max_new_tokens},
            "budget": max_new_tokens}


def stage_settings(meta: dict[str, Any], suite_id: str, suites: Any) -> tuple[dict[str, Any], int | None, int | None]:
    """A suite under a programme's `[suites]` (`programme.Suites`): its settings with the answer budget, its
    item limit and its few-shot count. The evaluation runs with these and the decision looks the run up by them,
    so both take them from here."""
    return (budgeted(meta, suites.max_new_tokens.get(suite_id)), suites.limit_of(suite_id),
            suites.num_fewshot.get(suite_id))


def commitment_of(items: Iterable[dict[str, Any]]) -> str:
    """SHA-256 over the items in order, each as canonical JSON and a newline: what a stage publishes for a suite."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One object per line; a missing file is empty, a bad line is one error naming the file and line."""
    if not path.exists():
        return []
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise SuiteError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    return items


def check_items(items: Iterable[dict], kind: str, *, strict_text: bool = True) -> None:
    """Refuse items that break the suite contract before they are written.

    Suite directories keep prompts free of trailing whitespace; suite files may end a prompt in a
    space as lm-evaluation-harness tasks do (the backend moves it into the continuation)."""
    seen = set()
    for it in items:
        iid = it.get("id")
        if not iid or iid in seen:
            raise ValueError(f"missing or duplicate item id {iid!r}")
        seen.add(iid)
        text = it.get("context" if kind == "multiple_choice" else "prompt")
        if not isinstance(text, str) or not text.strip() or (strict_text and text != text.rstrip()):
            raise ValueError(f"item {iid}: prompt text is empty or ends in whitespace")
        if kind == "multiple_choice":
            choices, answer = it.get("choices"), it.get("answer")
            if not choices or not isinstance(answer, int) or not 0 <= answer < len(choices):
                raise ValueError(f"item {iid}: answer {answer!r} out of range")
        elif not isinstance(it.get("answer"), str):
            raise ValueError(f"item {iid}: generate answers must be strings")


def _check(suite: Suite, path: Path) -> None:
    kind = suite.meta.get("kind")
    if kind not in ("multiple_choice", "generate"):
        raise SuiteError(f"{path}: kind must be 'multiple_choice' or 'generate', not {kind!r}")
    try:
        check_items(suite.items, kind)
        check_items(suite.fewshot, kind)
    except ValueError as exc:
        raise SuiteError(f"{path}: {exc}") from None
    if suite.meta.get("scorer") == "ifeval":  # an unknown instruction is refused when the suite is read
        from .ifeval import check_items as check_instructions

        try:
            check_instructions(suite.items)
        except SuiteError as exc:
            raise SuiteError(f"{path}: {exc}") from None
    check_code_and_samples(suite, path)
    _check_dialogue(suite)


def _check_dialogue(suite: Suite) -> None:
    """Agent suites (tools, scripted users) and judged multi-turn suites are refused when read, not when run."""
    from . import multiturn

    if suite.meta.get("scorer") == "agent":
        from .agent import check_suite as check_agent

        check_agent(suite)
    multiturn.check_suite(suite)


def check_code_and_samples(suite: Suite, path: Path) -> None:
    """A code suite's items carry tests and its limits are known ones; `samples` can be drawn; the few-shot
    sampler is a known one."""
    from .prompts import sampler_of
    from .sampling import SamplingError, sampling_of

    sampler_of(suite.meta, str(path))
    try:
        sampling_of(suite.meta.get("samples"))
    except SamplingError as exc:
        raise SuiteError(f"{path}: {exc}") from None
    if suite.meta.get("scorer") != "code":
        return
    from .code import check_code_items, limits_of

    try:
        check_code_items(suite.items)
        limits_of(suite.meta)
    except TypeError as exc:
        raise SuiteError(f"{path}: code.limits: {exc}") from None
    except ValueError as exc:
        raise SuiteError(f"{path}: {exc}") from None


SUITE_FILES = (".yaml", ".yml", ".toml")


def _suite_file_in(directory: Path) -> Path | None:
    """The one suite file a directory holds: suite.yaml/yml, else its only YAML file."""
    for name in ("suite.yaml", "suite.yml"):
        if (directory / name).is_file():
            return directory / name
    found = sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    if len(found) > 1:
        raise SuiteError(f"{directory}: holds {len(found)} YAML files; name the suite file itself")
    return found[0] if found else None


def _locate(ref: str | Path) -> Path | None:
    """A suite file or directory: the path itself, else an imported suite by id, else a bundled one."""
    path = Path(ref)
    if path.is_file() or path.is_dir():
        return path
    for root in (local_suites(), BUNDLED):
        for candidate in [root / str(ref)] + [root / f"{ref}{suffix}" for suffix in SUITE_FILES]:
            if candidate.exists():
                return candidate
    return None


def load_suite(ref: str | Path) -> Suite:
    """A suite directory or suite file (YAML/TOML, lm-evaluation-harness tasks included) by path,
    else an imported suite by id, else a bundled one."""
    path = _locate(ref)
    if path is not None and path.is_file():
        if path.suffix not in SUITE_FILES:
            raise SuiteError(f"{path}: a suite file is YAML or TOML ({', '.join(SUITE_FILES)})")
        from .suitefile import load_suite_file

        return load_suite_file(path)
    toml = path / "suite.toml" if path is not None else None
    if path is not None and not toml.is_file():
        found = _suite_file_in(path)
        if found is not None:
            from .suitefile import load_suite_file

            return load_suite_file(found)
    if toml is None or not toml.is_file():
        known = ", ".join(bundled_suites())
        raise SuiteError(f"no suite {str(ref)!r} (not a suite file, nor a directory with suite.toml; "
                         f"bundled: {known})")
    try:
        meta = tomllib.loads(toml.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{toml}: not valid TOML: {exc}") from None
    if "data" in meta or "generator" in meta:
        from .suitefile import load_suite_file

        return load_suite_file(toml)
    items, fewshot = _read_items(path)
    suite = Suite(meta.get("id", path.name), meta, items, fewshot, path)
    _check(suite, toml)
    return suite


def _read_items(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Items in clear (`items.jsonl`), or sealed (`items.sealed`, opened with the evaluation office's key)."""
    if (path / "items.sealed").is_file() and not (path / "items.jsonl").is_file():
        from .sealed import read_sealed  # its SealedError is a SuiteError: one line, naming the file

        return read_sealed(path)
    return read_jsonl(path / "items.jsonl"), read_jsonl(path / "fewshot.jsonl")


def _is_suite(path: Path) -> bool:
    if path.is_file():
        return path.suffix in SUITE_FILES
    try:
        return (path / "suite.toml").is_file() or _suite_file_in(path) is not None
    except SuiteError:
        return False


def check_suite_names(names: Iterable[str], where: str = "suites") -> None:
    """Every named suite can be found (a sealed one without opening it), so a programme file naming an unknown
    suite is refused when it is recorded, not at evaluation."""
    for name in names:
        path = _locate(name)
        if path is None or not _is_suite(path):
            raise SuiteError(f"{where}: unknown suite {name!r} (known: {', '.join(bundled_suites())}; "
                             "or a suite file or folder by path)")


def check_programme_suites(spec, where: str) -> None:
    """Every suite a programme names (by component, and the safety gate's) can be found."""
    for component in ("ministry", "global_common", "global_individual"):
        check_suite_names(getattr(spec.suites, component), f"{where}: suites.{component}")
    if spec.gates.safety_suite:
        check_suite_names([spec.gates.safety_suite], f"{where}: gates.safety_suite")


def bundled_suites() -> list[str]:
    """Ids of the bundled and imported suites (directories and suite files)."""
    found = set()
    for root in (BUNDLED, local_suites()):
        if root.is_dir():
            found |= {p.stem if p.is_file() else p.name for p in root.iterdir() if _is_suite(p)}
    return sorted(found)
