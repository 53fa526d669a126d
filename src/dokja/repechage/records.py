"""What the repechage hands out and takes in: frozen records, and its one error."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..programme.schema import Member


class RepechageError(ValueError):
    """A call, application, vote or decision the programme's rules refuse; one line saying why."""


@dataclass(frozen=True)
class Applicant:
    """An eliminated team (its key) or a new consortium applying to a call, with what it hands in beside its
    evidence files: its model's name and its global benchmark results (suite or benchmark → score)."""

    key: str
    name: str
    members: tuple[Member, ...]
    model: str
    name_ko: str = ""
    benchmarks: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Tally:
    """The panel's count: an applicant is selected only with a majority of the whole panel."""

    selected: str | None
    counts: dict[str, int]  # applicant → votes
    nobody: int  # votes for nobody
    cast: int
    panel_size: int
    needed: int  # more than half of the panel's members
    reason: str


@dataclass(frozen=True)
class ApplicantView:
    key: str
    name: str
    name_ko: str
    members: tuple[Member, ...]
    model: str
    benchmarks: dict[str, float]
    files: tuple[tuple[str, str, str, int], ...]  # (kind, name, sha256, size); never the contents
    applied_at: dt.datetime


@dataclass(frozen=True)
class CallView:
    """A call as the office sees it: its terms, applicants, the votes cast so far and, once decided, the tally."""

    id: int
    stage: str
    decision: int
    opens: dt.date
    closes: dt.date
    requirements: str
    panel: tuple[str, ...]
    seats: int
    applicants: tuple[ApplicantView, ...]
    votes: dict[str, str | None]  # reviewer → applicant key, or None for nobody
    outcome: Tally | None
    admitted: str | None
