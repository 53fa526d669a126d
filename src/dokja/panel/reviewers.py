"""The reviewers file (TOML, `[[reviewers]]`): who the outside experts are, where they worked, and what
they declare; validated whole before anything is stored, errors naming the line or the field."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import PanelError


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PastAffiliation(Entry):
    organisation: str = Field(min_length=1, description="the organisation")
    start: dt.date | None = Field(None, description="when the reviewer joined it")
    end: dt.date | None = Field(None, description="when they left it; none: still there")

    @model_validator(mode="after")
    def in_order(self) -> "PastAffiliation":
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class DeclaredConflict(Entry):
    team: str = Field(min_length=1, description="the team's id")
    reason: str = Field(min_length=1, description="why, in the reviewer's words")


class ReviewerEntry(Entry):
    """One `[[reviewers]]` entry."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="short id (lower-case letters, digits, "
                     ". - and _); never shown to the public, who see a pseudonym")
    name: str = Field(min_length=1, description="the reviewer's name")
    affiliation: str = Field("", description="the current organisation")
    origin: Literal["domestic", "international"] = Field(description="a domestic or an international expert")
    affiliations: list[PastAffiliation] = Field([], description="past affiliations, with dates")
    conflicts: list[DeclaredConflict] = Field([], description="conflicts the reviewer declares")

    @field_validator("conflicts")
    @classmethod
    def one_per_team(cls, conflicts: list[DeclaredConflict]) -> list[DeclaredConflict]:
        teams = [c.team for c in conflicts]
        if len(set(teams)) != len(teams):
            raise ValueError("declare each team's conflict once (join the reasons)")
        return conflicts


class ReviewersFile(Entry):
    reviewers: list[ReviewerEntry] = Field(min_length=1, description="the reviewers (`[[reviewers]]`)")

    @field_validator("reviewers")
    @classmethod
    def keys_unique(cls, reviewers: list[ReviewerEntry]) -> list[ReviewerEntry]:
        keys = [r.key for r in reviewers]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once")
        return reviewers


def _where(exc: ValidationError, raw: dict) -> str:
    """`reviewers[2] (kim).affiliations[0]: …`: the entry by position and key, then the field."""
    first = exc.errors()[0]
    entries = raw.get("reviewers") if isinstance(raw.get("reviewers"), list) else []
    out = ""
    for part in first["loc"]:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        if out == f"reviewers[{part}]" and part < len(entries) and isinstance(entries[part], dict) \
                and isinstance(entries[part].get("key"), str):
            out += f" ({entries[part]['key']})"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{out or '(top level)'}: {first['msg'].removeprefix('Value error, ')}{more}"


def parse_reviewers(text: str, source: str = "reviewers file") -> list[ReviewerEntry]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PanelError(f"{source}: not valid TOML: {exc}") from None
    try:
        return ReviewersFile.model_validate(raw).reviewers
    except ValidationError as exc:
        raise PanelError(f"{source}: {_where(exc, raw)}") from None


def read_reviewers(path: str | Path) -> list[ReviewerEntry]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PanelError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return parse_reviewers(text, str(path))
