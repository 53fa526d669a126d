"""What the decision's evaluation cost: tokens and model time per team and suite, and per benchmark point.

Read (only) from the per-item records of the runs a decision used: each generated answer keeps the tokens
its backend counted (prompt, reasoning, answer) and its latency (`harness.reasoning.item_measures`; n samples
keep theirs each). Log-likelihood items cost one forward and record no latency, so a suite scored only by
log-likelihood shows its items and no time. Frontier models are billed per token: cost per point is what lets
the public compare a team's score with what it took to get it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store import schema as db

MEASURES = ("prompt_tokens", "reasoning_tokens", "answer_tokens", "seconds")


@dataclass(frozen=True)
class Cost:
    """Sums over items; `measured` counts the answers that carried any measure."""

    items: int = 0
    measured: int = 0
    prompt_tokens: int = 0
    reasoning_tokens: int = 0
    answer_tokens: int = 0
    seconds: float = 0.0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.reasoning_tokens + self.answer_tokens


@dataclass(frozen=True)
class TeamCost:
    team: str
    name: str
    model: str
    benchmark_points: float | None
    suites: dict[str, Cost] = field(default_factory=dict)

    @property
    def total(self) -> Cost:
        return sum(self.suites.values(), Cost())

    @property
    def seconds_per_point(self) -> float | None:
        points = self.benchmark_points
        return self.total.seconds / points if points and self.total.measured else None

    @property
    def tokens_per_point(self) -> float | None:
        points = self.benchmark_points
        return self.total.tokens / points if points and self.total.measured else None


def item_cost(detail: dict[str, Any] | None) -> Cost:
    """One item's measures: its own, or the sum over its samples when it was answered n times."""
    detail = detail or {}
    parts = [p for p in (detail["samples"] if isinstance(detail.get("samples"), list) else [detail])
             if isinstance(p, dict)]
    sums = {m: sum(p[m] for p in parts if _number(p.get(m))) for m in MEASURES}
    measured = any(_number(p.get(m)) for p in parts for m in MEASURES)
    return Cost(items=1, measured=int(measured), prompt_tokens=int(sums["prompt_tokens"]),
                reasoning_tokens=int(sums["reasoning_tokens"]), answer_tokens=int(sums["answer_tokens"]),
                seconds=float(sums["seconds"]))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def run_cost(details: Iterable[dict[str, Any] | None]) -> Cost:
    return sum((item_cost(d) for d in details), Cost())


def cost_view(session: Session, decision: db.Decision) -> tuple[TeamCost, ...]:
    """Each team's cost on every suite its decision used, in the decision's team order."""
    inputs, data = decision.inputs or {}, decision.data or {}
    points = {t.get("id"): (t.get("points") or {}).get("benchmark") for t in data.get("teams") or []}
    out = []
    for team in inputs.get("teams") or []:
        suites = {}
        for suite, run in sorted((team.get("runs") or {}).items()):
            details = session.scalars(select(db.Result.detail).where(db.Result.run_id == run["run_id"]))
            suites[suite] = run_cost(details)
        out.append(TeamCost(team=team["id"], name=team.get("name", team["id"]), model=team.get("model", ""),
                            benchmark_points=points.get(team["id"]), suites=suites))
    return tuple(out)


def cost_context(costs: tuple[TeamCost, ...] | None) -> dict[str, Any] | None:
    """The table the report renders: per team, per suite and in total; None when nothing was measured."""
    if not costs or not any(t.total.measured for t in costs):
        return None
    suites = sorted({s for t in costs for s in t.suites})
    rows = [{"name": t.name, "model": t.model, "total": t.total, "suites": [t.suites.get(s) for s in suites],
             "points": t.benchmark_points, "seconds_per_point": t.seconds_per_point,
             "tokens_per_point": t.tokens_per_point} for t in costs]
    return {"suites": suites, "rows": rows}
