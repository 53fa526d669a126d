"""The ledger's records: what crosses the package's boundary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal, Mapping

POOL = "pool"
Kind = Literal["gpu", "data", "talent"]
Step = Literal["initial", "eliminated", "advanced", "admitted"]
JOINT, OWN, TALENT = "joint data", "own data", "talent"
UNITS = {"gpu": "GPU", "data": "won", "talent": "won/year"}


class ResourcesError(ValueError):
    """A ledger change the rules refuse; one line saying why."""


@dataclass(frozen=True)
class Entry:
    """One line of the append-only ledger: a holder (a team or the pool) gains or gives up an amount from a day.

    `step` says which part of the rules made it, so a decision applied again adds nothing."""

    holder: str
    kind: Kind
    resource: str  # a GPU type, "joint data", "own data" or "talent"
    amount: int  # GPUs, won, or won per year; negative when given up
    effective: dt.date
    reason: str
    step: Step
    stage: str | None = None
    decision: int | None = None

    @property
    def unit(self) -> str:
        return UNITS[self.kind]


@dataclass(frozen=True)
class Outcomes:
    """What a stage decision means for resources: each team's outcome, in rank order, and the teams the
    repechage admitted at that stage."""

    stage: str
    teams: Mapping[str, Literal["advance", "eliminated"]]
    admitted: tuple[str, ...] = ()
    decision: int | None = None

    @classmethod
    def of_decision(cls, data: dict, decision: int | None, admitted=()) -> "Outcomes":
        """From a stored decision's data (`teams[*].id/outcome/rank`), ranked teams first."""
        ranked = sorted(data["teams"], key=lambda t: (t.get("rank") is None, t.get("rank") or 0, t["id"]))
        return cls(stage=data["stage"]["id"], teams={t["id"]: t["outcome"] for t in ranked},
                   admitted=tuple(admitted), decision=decision)


@dataclass(frozen=True)
class Holding:
    """What one holder has on a day: GPUs by type (and in H100-equivalents), data in won, talent in won a year."""

    holder: str
    gpus: Mapping[str, int] = field(default_factory=dict)
    h100e: float = 0.0
    joint_data: int = 0
    own_data: int = 0
    talent: int = 0


@dataclass(frozen=True)
class Totals:
    """Teams and pool together against the budget (none: no cap). GPUs in H100-equivalents."""

    on: dt.date | None
    teams_h100e: float
    pool_h100e: float
    budget_h100e: float | None
    joint_data: int
    budget_joint_data: int | None
    own_data: int
    talent: int
    budget_talent: int | None

    @property
    def issued_h100e(self) -> float:
        """Every programme GPU handed out so far, with a team or back in the pool."""
        return self.teams_h100e + self.pool_h100e

    @property
    def headroom_h100e(self) -> float | None:
        return None if self.budget_h100e is None else self.budget_h100e - self.issued_h100e


@dataclass(frozen=True)
class ResourcesSummary:
    """The ledger on one day, for the public site and the report; read-only."""

    on: dt.date
    teams: tuple[Holding, ...]
    pool: Holding
    totals: Totals
    names: Mapping[str, tuple[str, str]]  # team id → (English, Korean) name
    entries: int
    decisions: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    """A PNG chart with its captions; the Korean caption goes in the HTML, where Hangul fonts are sure to be."""

    png: bytes
    caption_en: str
    caption_ko: str
