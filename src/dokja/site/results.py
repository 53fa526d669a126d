"""A stage's result as one viewer may see it: pure, over a stored decision's data.

"full" disclosure shows every team's points; "public" only outcomes, ranks and gates (the bundle's public
decision, `dokja.bundle.build.public_decision`). A team always sees its own points. Whether the decision is
published is the caller's business: nobody but the office is handed an unpublished one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..bundle.build import public_decision

POINTS = ("benchmark", "expert", "user")


@dataclass(frozen=True)
class TeamRow:
    """One team's line: rank, outcome, gates, and the points when this viewer may see them."""

    id: str
    name: str
    name_ko: str
    rank: int | None
    outcome: str
    reason: str
    gates: tuple[tuple[str, bool], ...]
    points: tuple[tuple[str, float], ...] | None = None  # benchmark, expert, user
    total: float | None = None


@dataclass(frozen=True)
class StageResult:
    """A stage's decision as shown on a page."""

    stage: str
    name: str
    name_ko: str
    date: str
    keep: int
    decision: int
    published_at: dt.datetime | None
    level: str
    teams: tuple[TeamRow, ...]
    shortfall: tuple[str, str] | None = None  # "keeps 3; 4 were planned", in English and Korean

    def team(self, key: str) -> TeamRow | None:
        return next((t for t in self.teams if t.id == key), None)


def stage_result(data: dict, decision: int, *, level: str, published_at: dt.datetime | None,
                 own_team: str | None = None, office: bool = False) -> StageResult:
    """The rows a viewer may see: all points at "full" or for the office, else only the viewer's own team's."""
    public = {t["id"]: t for t in public_decision(data)["teams"]}
    rows = []
    for t in sorted(data["teams"], key=lambda t: (t.get("rank") is None, t.get("rank") or 0, t["id"])):
        shown = public[t["id"]]
        row = TeamRow(id=t["id"], name=shown["name"], name_ko=shown.get("name_ko") or "", rank=shown["rank"],
                      outcome=shown["outcome"], reason=shown.get("reason") or "",
                      gates=tuple(sorted((g, bool(v["passed"])) for g, v in shown["gates"].items())))
        if office or level == "full" or t["id"] == own_team:
            row = TeamRow(**{**row.__dict__, "points": tuple((p, float(t["points"][p])) for p in POINTS),
                             "total": float(t["total"])})
        rows.append(row)
    stage = data["stage"]
    return StageResult(stage=stage["id"], name=stage.get("name", stage["id"]), name_ko=stage.get("name_ko", ""),
                       date=str(stage.get("date", "")), keep=int(stage.get("keep", 0)), decision=decision,
                       published_at=published_at, level=level, teams=tuple(rows),
                       shortfall=(short["text_en"], short["text_ko"]) if (short := data.get("shortfall")) else None)
