"""The programme file's schema: what a programme is, as its office writes it down."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

COMPONENTS = ("ministry", "global_common", "global_individual")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Scheme(Strict):
    """Points per component; defaults are the first real stage's (PROGRAMME.md)."""

    ministry: float = Field(10, ge=0)
    global_common: float = Field(20, ge=0)
    global_individual: float = Field(10, ge=0)
    expert: float = Field(35, ge=0)
    user: float = Field(25, ge=0)

    @property
    def benchmark(self) -> float:
        return self.ministry + self.global_common + self.global_individual

    @property
    def total(self) -> float:
        return self.benchmark + self.expert + self.user


class Frontier(Strict):
    """The moving target: the best global model released within the window before each stage."""

    window_months: int = Field(6, ge=1, le=60)
    target_ratio: float = Field(0.95, gt=0, le=1.5)
    ratio_cap: float = Field(1.0, gt=0, description="a suite ratio above this earns no extra points")


class Gates(Strict):
    independence: bool = True
    safety_suite: str | None = None
    safety_min_score: float = Field(0.0, ge=0, le=1)


class Arena(Strict):
    """How the public arena's ratings become each team's user-evaluation points (out of ``scheme.user``).

    A team's points come from its best-rated model on the arena leaderboard; a team with no
    rated model earns none.
    """

    points: Literal["linear", "rank", "win_rate"] = Field(
        "linear", description="linear: scheme.user × (rating − floor) / (best rating − floor), clipped to [0, 1]; "
        "rank: scheme.user × (n − rank) / (n − 1) over the n models on the leaderboard, ranks from simultaneous "
        "intervals so near-equal models earn the same; win_rate: scheme.user × min(1, P(beat `reference`) / "
        "`full_at`), the win probability implied by the two ratings")
    floor: float | str | None = Field(
        None, description="linear only: the rating that earns 0 points, as a number or the name of a model "
        "whose rating it is (e.g. a baseline); default the lowest rating on the leaderboard")
    reference: str | None = Field(None, description="win_rate only: the model to beat, e.g. the frontier reference")
    full_at: float = Field(0.5, gt=0, le=1, description="win_rate only: the win probability that earns full "
                           "points (0.5 = as good as the reference)")
    anchor: str | None = Field(None, description="the model fixed at `anchor_rating`; default: the field's mean")
    anchor_rating: float = Field(1000.0, description="the rating of the anchor (or of the field's mean)")
    ties: Literal["half", "davidson"] = Field(
        "half", description="half: a tie is half a win (comparable with published arena leaderboards); "
        "davidson: an explicit tie model, which does not shrink the scale when ties are frequent")
    interval: Literal["sandwich", "bootstrap"] = Field("sandwich", description="how intervals (and so shared "
                                                       "ranks) are computed")
    style: bool = Field(False, description="use the style-controlled ratings (answer length and markdown as "
                        "covariates), so formatting alone earns no points")

    @model_validator(mode="after")
    def reference_for_win_rate(self) -> "Arena":
        if self.points == "win_rate" and not self.reference:
            raise ValueError("points = \"win_rate\" needs a `reference` model")
        if self.style and self.ties != "half":
            raise ValueError("style = true uses the half-win convention; set ties = \"half\"")
        return self


class Stage(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    name_ko: str = ""
    date: dt.date
    keep: int = Field(ge=1)
    grievance_days: int = Field(10, ge=0)


class Suites(Strict):
    """Which suites feed which benchmark component, and how many items of each to run."""

    ministry: list[str] = []
    global_common: list[str] = []
    global_individual: list[str] = []
    limit: int | None = Field(None, ge=1)
    num_fewshot: dict[str, int] = {}

    def component_of(self, suite: str) -> str:
        for component in COMPONENTS:
            if suite in getattr(self, component):
                return component
        raise KeyError(suite)

    @property
    def all(self) -> list[str]:
        return list(dict.fromkeys(self.ministry + self.global_common + self.global_individual))


class Member(Strict):
    name: str
    organisation: str = ""
    role: Literal["lead", "industry", "university", "student", "researcher", "other"]


class Team(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    name_ko: str = ""
    target: str | None = Field(None, description="the frontier reference this team measures itself against")
    members: list[Member]


class Model(Strict):
    """A runnable model: a Hugging Face directory, a GGUF file, or an OpenAI-compatible endpoint."""

    name: str
    location: str
    chat: bool = False
    team: str | None = None
    build: str | None = Field(None, description="demo only: how to make the model if it does not exist yet")


class Reference(Strict):
    name: str
    vendor: str
    released: dt.date
    model: str | None = None
    scores: dict[str, float] = {}
    source: str = ""

    @model_validator(mode="after")
    def runnable_or_published(self) -> "Reference":
        if not self.model and not self.scores:
            raise ValueError("needs a runnable `model` or published `scores`")
        return self


class Programme(Strict):
    name: str
    name_ko: str = ""
    scheme: Scheme = Scheme()
    frontier: Frontier = Frontier()
    gates: Gates = Gates()
    stages: list[Stage] = Field(min_length=1)
    suites: Suites = Suites()
    teams: list[Team] = []
    models: list[Model] = []
    references: list[Reference] = []
    arena: Arena = Arena()

    @field_validator("stages")
    @classmethod
    def stages_in_order(cls, stages: list[Stage]) -> list[Stage]:
        ids = [s.id for s in stages]
        if len(set(ids)) != len(ids):
            raise ValueError("stage ids must be unique")
        if [s.date for s in stages] != sorted(s.date for s in stages):
            raise ValueError("stages must be listed in date order")
        return stages

    def stage(self, stage_id: str | None = None) -> Stage:
        if stage_id is None:
            return self.stages[0]
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(f"no stage {stage_id!r}; stages are {[s.id for s in self.stages]}")
