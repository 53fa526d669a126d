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


def load_programme(path: str | Path) -> Programme:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgrammeError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise ProgrammeError(f"{path}: not UTF-8 text") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProgrammeError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Programme.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        msg = first["msg"].removeprefix("Value error, ")
        raise ProgrammeError(f"{path}: {_where(first['loc'])}: {msg}{more}") from None
