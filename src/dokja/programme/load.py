"""Loading a programme file, with errors that name the file, the field and the fault in one line."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from .schema import Programme


class ProgrammeError(ValueError):
    """A programme file that cannot be used; the message is one line, fit for a terminal."""


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validation_line(exc: ValidationError) -> str:
    """A Pydantic error as one line: where, what, and how many more."""
    first = exc.errors()[0]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    msg = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    got = f" (got {value!r})" if isinstance(value, (str, int, float)) and first["type"] != "missing" else ""
    return f"{_where(first['loc'])}: {msg}{got}{more}"


def load_programme(path: str | Path) -> Programme:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ProgrammeError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ProgrammeError(f"{path}: is a folder, not a programme file") from None
    except UnicodeDecodeError:
        raise ProgrammeError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ProgrammeError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Programme.model_validate(raw)
    except ValidationError as exc:
        raise ProgrammeError(f"{path}: {validation_line(exc)}") from None
