"""The public vote export (CSV or JSONL) and its reader, so anyone can recompute the leaderboard.

The export holds exactly the fields of :class:`VoteRecord`, in that order: nothing about the
visitor, their session or address. Weights are written with Python's shortest round-trip
form, so reading the file back gives the very same floats and the very same leaderboard.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from pathlib import Path
from typing import Iterable

from .errors import ArenaError
from .leaderboard import OUTCOMES, VoteRecord

__all__ = ["COLUMNS", "write_votes", "read_votes", "votes_to_csv", "votes_to_jsonl"]

COLUMNS = tuple(f.name for f in dataclasses.fields(VoteRecord))
_INTS = ("len_a", "len_b", "md_a", "md_b")
_BOOLS = ("flagged", "reveals_identity")
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no", ""}
OPTIONAL = {"stage": ""}  # columns an older export may lack, with the value they then take


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".jsonl"):
        return suffix[1:]
    raise ArenaError(f"{path}: the vote export must end in .csv or .jsonl")


def _plain(v: VoteRecord) -> dict:
    return {c: getattr(v, c) for c in COLUMNS}


def votes_to_csv(votes: Iterable[VoteRecord]) -> str:
    """The CSV text of an export (the site serves it as a download)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for v in votes:
        row = _plain(v)
        w.writerow([("true" if row[c] else "false") if c in _BOOLS else repr(row[c]) if c == "weight" else row[c]
                    for c in COLUMNS])
    return buf.getvalue()


def votes_to_jsonl(votes: Iterable[VoteRecord]) -> str:
    """The JSONL text of an export: one object per vote, keys in column order."""
    return "".join(json.dumps(_plain(v), ensure_ascii=False) + "\n" for v in votes)


def write_votes(votes: Iterable[VoteRecord], path) -> int:
    """Write the anonymised export; the format follows the suffix. Returns the number of votes."""
    path = Path(path)
    votes = list(votes)
    text = votes_to_csv(votes) if _kind(path) == "csv" else votes_to_jsonl(votes)
    path.write_text(text, encoding="utf-8")
    return len(votes)


def read_votes(path) -> list[VoteRecord]:
    """Read an export back; a malformed file raises :class:`ArenaError` naming the line and field."""
    path = Path(path)
    kind = _kind(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArenaError(f"{path}: cannot read the vote export ({exc})") from exc
    if kind == "csv":
        return _read_csv(path, text)
    return _read_jsonl(path, text)


def _read_csv(path: Path, text: str) -> list[VoteRecord]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise ArenaError(f"{path}: empty file; expected a header line with {', '.join(COLUMNS)}")
    missing = [c for c in COLUMNS if c not in header and c not in OPTIONAL]
    if missing:
        raise ArenaError(f"{path} line 1: missing column {missing[0]!r}")
    position = {c: header.index(c) for c in COLUMNS if c in header}
    out = []
    for values in reader:
        line = reader.line_num
        if not values:
            continue
        if len(values) != len(header):
            raise ArenaError(f"{path} line {line}: {len(values)} fields, the header has {len(header)}")
        out.append(_record(path, line, {**OPTIONAL, **{c: values[i] for c, i in position.items()}}))
    return out


def _read_jsonl(path: Path, text: str) -> list[VoteRecord]:
    out = []
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ArenaError(f"{path} line {line}: not JSON ({exc.msg})") from exc
        if not isinstance(obj, dict):
            raise ArenaError(f"{path} line {line}: expected a JSON object")
        missing = [c for c in COLUMNS if c not in obj and c not in OPTIONAL]
        if missing:
            raise ArenaError(f"{path} line {line}: missing field {missing[0]!r}")
        out.append(_record(path, line, {**OPTIONAL, **obj}))
    return out


def _record(path: Path, line: int, raw: dict) -> VoteRecord:
    def bad(name, why):
        return ArenaError(f"{path} line {line}, field {name!r}: {why}")

    fields = {}
    for name in ("battle", "model_a", "model_b", "category", "language", "stage"):
        value = raw[name]
        if not isinstance(value, str) or (name in ("battle", "model_a", "model_b") and not value):
            raise bad(name, f"expected a non-empty text, got {value!r}")
        fields[name] = value
    if raw["outcome"] not in OUTCOMES:
        raise bad("outcome", f"must be one of {', '.join(OUTCOMES)}, not {raw['outcome']!r}")
    fields["outcome"] = raw["outcome"]
    value = raw["weight"]
    try:
        weight = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        weight = math.nan
    if not (math.isfinite(weight) and weight > 0):
        raise bad("weight", f"must be a positive number, not {value!r}")
    fields["weight"] = weight
    for name in _INTS:
        value = raw[name]
        try:
            number = int(value) if isinstance(value, str) else value
        except ValueError:
            number = None
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise bad(name, f"must be a whole number ≥ 0, not {value!r}")
        fields[name] = number
    for name in _BOOLS:
        value = raw[name]
        if isinstance(value, bool):
            fields[name] = value
        elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            fields[name] = value.strip().lower() in _TRUE
        else:
            raise bad(name, f"must be true or false, not {value!r}")
    if fields["model_a"] == fields["model_b"]:
        raise bad("model_b", f"a model cannot face itself ({fields['model_a']})")
    return VoteRecord(**fields)
