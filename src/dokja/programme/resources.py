"""The programme file's `[resources]` table: GPUs, data and talent support, and how allocations follow a decision.

Defaults are the real programme's: a B200 counts as two H100s (teams were offered 512 B200 or 1,024 H100),
eliminated teams lose their GPUs and keep their data.
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator, model_validator

from .strict import Strict

#: H100-equivalents per GPU: the H200 has the H100's dense compute; a B200 counts as two (512 B200 ~ 1,024 H100).
GPU_TYPES: dict[str, float] = {"H100": 1.0, "H200": 1.0, "B200": 2.0}


class Budget(Strict):
    """What the programme can hand out; none: no cap on that resource."""

    gpus: float | None = Field(None, gt=0, description="GPUs in H100-equivalents, counting those held by teams "
                               "and those returned to the pool")
    joint_data: int | None = Field(None, ge=0, description="the joint data purchase, in won (about 10 billion a "
                                   "year in the real programme)")
    talent: int | None = Field(None, ge=0, description="talent support, in won per year over all teams")


class Lessor(Strict):
    """A team that is itself a GPU supplier: it receives no GPUs from the programme before `until`."""

    team: str = Field(description="the team's id")
    until: dt.date = Field(description="the first day it may hold programme GPUs (YYYY-MM-DD)")


class Allocation(Strict):
    """A team's initial support (`[[resources.allocations]]`)."""

    team: str = Field(description="the team's id")
    gpu: str = Field("H100", description="the GPU type, one of `gpu_types`")
    gpus: int = Field(0, ge=0, description="how many GPUs of that type (the real offer: 512 B200 or 1,024 H100)")
    since: dt.date = Field(description="the day the support starts (YYYY-MM-DD)")
    joint_data: int = Field(0, ge=0, description="the team's share of the joint data purchase, in won")
    own_data: int = Field(0, ge=0, description="the team's own data budget, in won (2.8 to 5 billion in the real "
                          "programme)")
    talent: int = Field(0, ge=0, description="talent support for researchers brought from abroad, in won per year "
                        "(about 2 billion in the real programme)")


class Growth(Strict):
    """How survivors' GPUs grow after a stage (`[[resources.growth]]`): a target per team or a multiplier, never
    past the budget; a team the repechage admits at that stage receives a survivor's allocation."""

    stage: str = Field(description="the stage id whose decision triggers the growth")
    gpus: int | None = Field(None, ge=1, description="each survivor holds this many GPUs of type `gpu` (or the "
                             "same in H100-equivalents) after the stage")
    multiplier: float | None = Field(None, gt=1, description="or: each survivor's GPUs (in H100-equivalents) are "
                                     "multiplied by this")
    gpu: str | None = Field(None, description="the type new GPUs are given in; none: the type the team holds most "
                            "of")

    @model_validator(mode="after")
    def one_rule(self) -> "Growth":
        if (self.gpus is None) == (self.multiplier is None):
            raise ValueError(f"growth at stage {self.stage!r}: give either `gpus` or `multiplier`")
        if self.gpus is not None and self.gpu is None:
            raise ValueError(f"growth at stage {self.stage!r}: `gpus` needs the `gpu` type it counts")
        return self


class Resources(Strict):
    """The resources ledger's rules: GPU types, the budget, lessors, initial allocations, and what follows a
    decision (eliminated teams' GPUs return to the pool, their data stays with them; survivors grow)."""

    gpu_types: dict[str, float] = Field(GPU_TYPES, description="H100-equivalents per GPU type; added to (or "
                                        "overriding) the defaults H100 = 1, H200 = 1, B200 = 2")
    budget: Budget = Field(Budget(), description="what the programme can hand out (`[resources.budget]`)")
    lessors: list[Lessor] = Field([], description="teams that supply GPUs themselves and receive none before a "
                                  "date (`[[resources.lessors]]`)")
    allocations: list[Allocation] = Field([], description="each team's initial support "
                                          "(`[[resources.allocations]]`)")
    return_days: int = Field(0, ge=0, description="an eliminated team's GPUs return to the pool this many days "
                             "after the decision, when survivors' and admitted teams' GPUs change too")
    talent_stops: bool = Field(True, description="an eliminated team's talent support stops when its GPUs return "
                               "(its data stays with it either way)")
    growth: list[Growth] = Field([], description="how survivors' GPUs grow after each stage "
                                 "(`[[resources.growth]]`)")

    @field_validator("gpu_types")
    @classmethod
    def with_defaults(cls, types: dict[str, float]) -> dict[str, float]:
        bad = sorted(name for name, value in types.items() if not value > 0)
        if bad:
            raise ValueError(f"H100-equivalents must be above 0 ({', '.join(bad)})")
        return {**GPU_TYPES, **types}

    @model_validator(mode="after")
    def consistent(self) -> "Resources":
        for gpu in [a.gpu for a in self.allocations] + [g.gpu for g in self.growth if g.gpu]:
            if gpu not in self.gpu_types:
                raise ValueError(f"unknown GPU type {gpu!r}; known: {', '.join(self.gpu_types)} (add it to "
                                 "`gpu_types`)")
        for what, keys in (("allocations", [a.team for a in self.allocations]),
                           ("lessors", [x.team for x in self.lessors]), ("growth", [g.stage for g in self.growth])):
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                raise ValueError(f"{what}: {', '.join(repeated)} listed more than once")
        self._within_budget()
        return self

    def _within_budget(self) -> None:
        b = self.budget
        gpus = sum(a.gpus * self.gpu_types[a.gpu] for a in self.allocations)
        for name, used, cap in (("GPUs (H100-equivalents)", gpus, b.gpus),
                                ("joint data", sum(a.joint_data for a in self.allocations), b.joint_data),
                                ("talent", sum(a.talent for a in self.allocations), b.talent)):
            if cap is not None and used > cap:
                raise ValueError(f"the initial allocations' {name} ({used:g}) exceed the budget ({cap:g})")


def check_resources(programme) -> list[str]:
    """What the `[resources]` table names that the rest of the programme file does not know (teams, stages);
    teams are checked only where the file lists them, since teams may also be registered later."""
    res = programme.resources
    problems = []
    teams = {t.id for t in programme.teams}
    if teams:
        for what, named in (("allocation", [a.team for a in res.allocations]),
                            ("lessor", [x.team for x in res.lessors])):
            problems += [f"resources: {what} for unknown team {t!r}" for t in named if t not in teams]
    stages = {s.id for s in programme.stages}
    problems += [f"resources: growth at unknown stage {g.stage!r}" for g in res.growth if g.stage not in stages]
    return problems
