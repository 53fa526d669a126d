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
        digest = hashlib.sha256()
        for item in self.items:
            digest.update(json.dumps(item, sort_keys=True, ensure_ascii=False).encode() + b"\n")
        return digest.hexdigest()


def _jsonl(path: Path) -> list[dict[str, Any]]:
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


def check_items(items: Iterable[dict], kind: str) -> None:
    """Refuse items that break the suite contract before they are written."""
    seen = set()
    for it in items:
        iid = it.get("id")
        if not iid or iid in seen:
            raise ValueError(f"missing or duplicate item id {iid!r}")
        seen.add(iid)
        text = it.get("context" if kind == "multiple_choice" else "prompt")
        if not isinstance(text, str) or not text.strip() or text != text.rstrip():
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


def load_suite(ref: str | Path) -> Suite:
    """A suite directory by path, else an imported suite by id, else a bundled one."""
    path = Path(ref)
    if not path.is_dir():
        path = local_suites() / str(ref)
    if not path.is_dir():
        path = BUNDLED / str(ref)
    toml = path / "suite.toml"
    if not toml.is_file():
        known = ", ".join(bundled_suites())
        raise SuiteError(f"no suite {str(ref)!r} (not a directory with suite.toml; bundled: {known})")
    try:
        meta = tomllib.loads(toml.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SuiteError(f"{toml}: not valid TOML: {exc}") from None
    suite = Suite(meta.get("id", path.name), meta, _jsonl(path / "items.jsonl"), _jsonl(path / "fewshot.jsonl"), path)
    _check(suite, toml)
    return suite


def bundled_suites() -> list[str]:
    """Ids of the bundled and imported suites."""
    found = set()
    for root in (BUNDLED, local_suites()):
        if root.is_dir():
            found |= {p.name for p in root.iterdir() if (p / "suite.toml").is_file()}
    return sorted(found)
