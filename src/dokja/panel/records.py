"""The panel's records: what crosses the package's boundary, frozen, with one canonical JSON form.

`PanelScores` is what a closed panel hands the stage decision; `panel_result` turns it into expert points.
Every tuple is kept sorted, so equal panels give identical bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from ..audit.log import canonical_json
from ..programme.panel import Criterion


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def canonical(self) -> bytes:
        """RFC 8785 canonical JSON: equal records give identical bytes."""
        return canonical_json(self.model_dump(mode="json"))

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def _sorted(values: tuple) -> tuple:
    return tuple(sorted(values, key=lambda r: r.key()))


# --- the people and the teams, as the pure conflict check reads them ---

class Affiliation(Record):
    """An organisation a reviewer worked at; no end: still there."""

    organisation: str
    start: dt.date | None = None
    end: dt.date | None = None


class Declared(Record):
    """A conflict the reviewer declared themselves."""

    team: str
    reason: str


class ReviewerRecord(Record):
    key: str
    pseudonym: str
    affiliation: str = ""  # the current organisation
    affiliations: tuple[Affiliation, ...] = ()
    declared: tuple[Declared, ...] = ()


class TeamOrganisations(Record):
    """A team and its consortium's member organisations."""

    team: str
    organisations: tuple[str, ...]


class ConflictCheck(Record):
    """One reviewer–team check: conflicted or clear, and why (each reason, or the clear line); reasons the
    office dismissed are listed apart and no longer conflict."""

    reviewer: str  # pseudonym
    team: str
    conflicted: bool
    reasons: tuple[str, ...]
    dismissed: tuple[str, ...] = ()

    def key(self) -> tuple:
        return (self.reviewer, self.team)


# --- a stage's panel, closed ---

class Score(Record):
    reviewer: str  # pseudonym
    team: str
    criterion: str
    score: float

    def key(self) -> tuple:
        return (self.criterion, self.team, self.reviewer)


class Refused(Record):
    """A score attempt the panel refused, with the line of its file (none: entered one at a time)."""

    line: int | None
    reviewer: str  # pseudonym, or "" for an unknown reviewer
    team: str
    criterion: str
    score: str
    reason: str

    def key(self) -> tuple:
        return (self.line if self.line is not None else -1, self.reviewer, self.team, self.criterion, self.reason)


class Conflict(Record):
    reviewer: str  # pseudonym
    team: str
    reasons: tuple[str, ...]
    dismissed: tuple[str, ...] = ()
    dismissal: str = ""

    def key(self) -> tuple:
        return (self.reviewer, self.team)


class Draw(Record):
    """One reviewer assigned to one team, with the exact chance the scheme gave that pair."""

    reviewer: str
    team: str
    probability: float

    def key(self) -> tuple:
        return (self.team, self.reviewer)


class PanelScores(Record):
    """A closed panel: the rubric used, every counted score, what was refused, the conflicts, the draw."""

    stage: str
    rubric: tuple[Criterion, ...]
    scale_min: int
    scale_max: int
    seed: int
    scores: tuple[Score, ...]
    refused: tuple[Refused, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    assignments: tuple[Draw, ...] = ()

    @field_validator("scores", "refused", "conflicts", "assignments")
    @classmethod
    def in_order(cls, values: tuple) -> tuple:
        return _sorted(values)


# --- what the panel's scores come to ---

class TeamCriterion(Record):
    criterion: str
    mean: float
    corrected: float | None  # severity-corrected mean; none when the correction is off
    n: int


class TeamPanel(Record):
    """A team's expert points (corrected ones where `[panel] severity` is on) and the means behind them."""

    team: str
    points: float
    raw_points: float
    corrected_points: float | None
    criteria: tuple[TeamCriterion, ...]

    def key(self) -> tuple:
        return (self.team,)


class Agreement(Record):
    """Krippendorff's alpha (interval) of one criterion, its bootstrap interval, and whether it is tentative
    (below `min_alpha`, or undefined; `note` says why)."""

    criterion: str
    alpha: float | None
    low: float | None
    high: float | None
    tentative: bool
    note: str = ""

    def key(self) -> tuple:
        return (self.criterion,)


class Offset(Record):
    reviewer: str
    criterion: str
    offset: float

    def key(self) -> tuple:
        return (self.criterion, self.reviewer)


class PanelResult(Record):
    stage: str
    severity: bool
    teams: tuple[TeamPanel, ...]
    agreement: tuple[Agreement, ...]
    offsets: tuple[Offset, ...] = ()

    @field_validator("teams", "agreement", "offsets")
    @classmethod
    def in_order(cls, values: tuple) -> tuple:
        return _sorted(values)

    def points(self) -> dict[str, float]:
        return {t.team: t.points for t in self.teams}


Status = Literal["unassigned", "open", "closed"]
