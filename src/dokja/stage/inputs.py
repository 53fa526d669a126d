"""The office's hand-made inputs to a decision (expert points, user points, reviewer findings) read from CSV."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


class StageError(ValueError):
    """Inputs a decision cannot be made from; one line naming what is missing or wrong."""


@dataclass(frozen=True)
class Finding:
    """A reviewers' finding row (the independence review's): passed or not, and the note."""

    passed: bool
    note: str = ""


def _rows(path: Path) -> list[dict[str, str]]:
    """CSV rows; a byte-order mark (a spreadsheet's "CSV UTF-8") is accepted."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return list(csv.DictReader(fh))
    except FileNotFoundError:
        raise StageError(f"{path}: file not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise StageError(f"{path}: not a UTF-8 CSV file ({type(exc).__name__})") from None


def _team_rows(path: Path, rows: list[dict[str, str]], known: set[str] | None):
    """(line, team, row) for each row; a team twice or one not in the stage is refused, naming the line."""
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, 2):
        team = (row.get("team") or "").strip()
        if team in seen:
            raise StageError(f"{path}:{n}: team {team!r} already given on line {seen[team]}")
        if known is not None and team not in known:
            raise StageError(f"{path}:{n}: no team {team!r} in this stage (teams: {', '.join(sorted(known))})")
        seen[team] = n
        yield n, team, row


def read_points(path: str | Path, column: str, known: set[str] | None = None) -> dict[str, float]:
    """Points per team from a CSV with columns `team` and `column` (expert or user points)."""
    path = Path(path)
    rows = _rows(path)
    if not rows or "team" not in rows[0] or column not in rows[0]:
        raise StageError(f"{path}: needs columns 'team' and '{column}'")
    out = {}
    for n, team, row in _team_rows(path, rows, known):
        try:
            out[team] = float(row[column])
        except (TypeError, ValueError):
            raise StageError(f"{path}:{n}: {column} {row[column]!r} is not a number") from None
    return out


def read_findings(path: str | Path, known: set[str] | None = None) -> dict[str, Finding]:
    """Independence findings per team: CSV with `team`, `passed` (yes/no) and `note`."""
    path = Path(path)
    out = {}
    for n, team, row in _team_rows(path, _rows(path), known):
        verdict = (row.get("passed") or "").strip().lower()
        if verdict not in ("yes", "no", "true", "false", "pass", "fail"):
            raise StageError(f"{path}:{n}: passed must be yes or no, not {verdict!r}")
        out[team] = Finding(verdict in ("yes", "true", "pass"), (row.get("note") or "").strip())
    return out
