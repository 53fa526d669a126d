"""The stage decision's inputs, as plain data: what each team scored and what the frontier scored."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


class StageError(ValueError):
    """Inputs a decision cannot be made from; one line naming what is missing or wrong."""


@dataclass
class Score:
    score: float
    stderr: float = float("nan")
    n: int = 0
    metric: str = ""


@dataclass
class Finding:
    """A gate finding, e.g. the independence review's; a reviewer's note travels with it."""

    passed: bool
    note: str = ""


@dataclass
class TeamInput:
    id: str
    name: str
    model: str
    name_ko: str = ""
    target: str | None = None
    scores: dict[str, Score] = field(default_factory=dict)
    expert: float | None = None
    user: float | None = None
    independence: Finding | None = None


@dataclass
class ReferenceInput:
    name: str
    vendor: str
    released: dt.date
    scores: dict[str, float] = field(default_factory=dict)
    source: str = ""


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        raise StageError(f"{path}: file not found") from None


def read_points(path: str | Path, column: str) -> dict[str, float]:
    """Points per team from a CSV with columns `team` and `column` (expert or user points)."""
    path = Path(path)
    rows = _rows(path)
    if not rows or "team" not in rows[0] or column not in rows[0]:
        raise StageError(f"{path}: needs columns 'team' and '{column}'")
    out = {}
    for n, row in enumerate(rows, 2):
        try:
            out[row["team"].strip()] = float(row[column])
        except (TypeError, ValueError):
            raise StageError(f"{path}:{n}: {column} {row[column]!r} is not a number") from None
    return out


def read_findings(path: str | Path) -> dict[str, Finding]:
    """Independence findings per team: CSV with `team`, `passed` (yes/no) and `note`."""
    path = Path(path)
    out = {}
    for n, row in enumerate(_rows(path), 2):
        verdict = (row.get("passed") or "").strip().lower()
        if verdict not in ("yes", "no", "true", "false", "pass", "fail"):
            raise StageError(f"{path}:{n}: passed must be yes or no, not {verdict!r}")
        out[row["team"].strip()] = Finding(verdict in ("yes", "true", "pass"), (row.get("note") or "").strip())
    return out
