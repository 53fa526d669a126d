"""What the grievance package hands out: frozen records, never rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Publication:
    """A decision made public, and the grievance window it opened."""

    stage: str
    decision: int
    published_at: dt.datetime
    deadline: dt.datetime  # the first instant a grievance is late
    deadline_text: str  # "2026-01-12 24:00 KST"


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file as the record shows it: its name, SHA-256 and size, never its contents."""

    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Ruling:
    """One step the office took on a grievance, with its written reason."""

    action: str
    state: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class GrievanceView:
    """A grievance as a page shows it. In the public timeline `grounds` is empty and `files` is empty: the
    team, the state, the dates and the office's reasons are public, the team's own text and files are not."""

    id: int
    stage: str
    team: str
    team_name: str
    team_name_ko: str
    decision: int
    grounds_kind: str
    grounds: str
    state: str
    filed_at: dt.datetime
    updated_at: dt.datetime
    rulings: tuple[Ruling, ...]
    files: tuple[EvidenceFile, ...]
    remedy_decision: int | None


@dataclass(frozen=True)
class Window:
    """Where a stage's grievance window stands at a given time. `final`: the window has closed and no
    grievance is still open, so the results can be declared final; `why_not_final` says what is missing."""

    stage: str
    decision: int
    published_at: dt.datetime
    deadline: dt.datetime
    deadline_text: str
    open: bool
    closed_early: bool
    eliminated: tuple[str, ...]
    waived: tuple[str, ...]
    open_grievances: tuple[GrievanceView, ...]
    final: bool
    why_not_final: str
    final_at: dt.datetime | None
