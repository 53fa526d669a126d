"""The programme file's schema: what a programme is, as its office writes it down."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .office import Grievances, Repechage
from .panel import Panel
from .resources import Resources
from .strict import Strict

COMPONENTS = ("ministry", "global_common", "global_individual")


class Scheme(Strict):
    """Points per component; defaults are the first real stage's (PROGRAMME.md)."""

    ministry: float = Field(10, ge=0, description="benchmark points from the ministry's own (private) Korean "
                            "suites: maths, knowledge, long context, safety")
    global_common: float = Field(20, ge=0, description="benchmark points from the global common suites "
                                 "(agents, maths, knowledge and reasoning, instruction following)")
    global_individual: float = Field(10, ge=0, description="benchmark points from the global individual suites, "
                                     "measured against each team's own `target` reference")
    expert: float = Field(35, ge=0, description="points from the expert panel's review")
    user: float = Field(25, ge=0, description="points from the user evaluation (the public arena)")

    @property
    def benchmark(self) -> float:
        return self.ministry + self.global_common + self.global_individual

    @property
    def total(self) -> float:
        return self.benchmark + self.expert + self.user


class Frontier(Strict):
    """The moving target: the best global model released within the window before each stage."""

    window_months: int = Field(6, ge=1, le=60, description="a reference counts as frontier if it was released "
                               "within this many months before the stage date")
    target_ratio: float = Field(0.95, gt=0, le=1.5, description="the target: a team's score as a share of the "
                                "best eligible reference's (each team is flagged against it)")
    ratio_cap: float = Field(1.0, gt=0, description="a suite ratio above this earns no extra points")


class Gates(Strict):
    """Pass-or-fail conditions beside the points: a team failing one is out whatever it scores."""

    independence: bool = Field(True, description="apply the from-scratch gate (provenance verdicts, reviewer "
                               "findings, exact checkpoint-hash matches with a reference)")
    safety_suite: str | None = Field(None, description="the suite whose score decides the safety gate; none: "
                                     "no safety gate")
    safety_min_score: float = Field(0.0, ge=0, le=1, description="the lowest passing score on `safety_suite`")
    require_evidence: bool = Field(False, description="fail the independence gate of a team with no evidence at "
                                   "all (no provenance check, no reviewer finding)")


class Arena(Strict):
    """How the public arena's ratings become each team's user-evaluation points (out of ``scheme.user``).

    A team's points come from its best-rated model on the arena leaderboard; a team with no
    rated model earns none. Points go by tier: each model is credited with the best rating among
    the models ranked no better than it, so models sharing a rank earn the same points.
    """

    points: Literal["linear", "rank", "win_rate"] = Field(
        "linear", description="linear: scheme.user × (credited rating − floor) / (best rating − floor), clipped to "
        "[0, 1], the credited rating being the best among models ranked no better (an unbeaten model counts at "
        "its lower bound); "
        "rank: scheme.user × (n − rank) / (n − 1) over the n models on the leaderboard, ranks from simultaneous "
        "intervals so near-equal models earn the same; win_rate: scheme.user × min(1, P(beat `reference`) / "
        "`full_at`), the win probability implied by the credited rating and the reference's")
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
    convention: Literal["mle", "arena-ridge"] = Field(
        "mle", description="mle: maximum likelihood, and no finite rating for a model that never lost (or never "
        "won); arena-ridge: the published arena notebook's ridge-penalised logistic regression (C = 1), to "
        "reproduce a leaderboard computed that way (half-win ties, no style control)")

    @model_validator(mode="after")
    def reference_for_win_rate(self) -> "Arena":
        if self.points == "win_rate" and not self.reference:
            raise ValueError("points = \"win_rate\" needs a `reference` model")
        if self.style and self.ties != "half":
            raise ValueError("style = true uses the half-win convention; set ties = \"half\"")
        if self.convention == "arena-ridge" and (self.ties != "half" or self.style):
            raise ValueError("convention = \"arena-ridge\" is the plain half-win fit; set ties = \"half\" and "
                             "style = false")
        return self


class Robustness(Strict):
    """How sure each elimination is: a seeded joint bootstrap over benchmark items (paired across models within
    each suite) and arena votes, and an optional pre-registered rule."""

    rounds: int = Field(200, ge=0, description="bootstrap replicates of the whole decision; 0: none computed")
    seed: int = Field(0, description="the published seed, so anyone gets the same probabilities")
    min_probability: float | None = Field(None, ge=0, le=1, description="pre-registered rule: an elimination "
                                          "stands only where its probability is at least this; otherwise the "
                                          "decision says more evaluation is needed")

    @field_validator("rounds")
    @classmethod
    def none_or_enough(cls, rounds: int) -> int:
        if rounds == 1:
            raise ValueError("rounds must be 0 (none) or at least 2")
        return rounds


class Stage(Strict):
    """One stage evaluation: its date fixes the frontier window, `keep` how many teams advance."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="short id used on the command line "
                    "(lower-case letters, digits, - and _)")
    name: str = Field(description="name in English, shown in the report")
    name_ko: str = Field("", description="name in Korean, shown in the report")
    date: dt.date = Field(description="the stage's evaluation date (YYYY-MM-DD)")
    keep: int = Field(ge=1, description="how many teams advance (the first stage kept 4 of 5)")
    grievance_days: int = Field(10, ge=0, description="calendar days an eliminated team has to file a grievance: "
                                "the window closes at 24:00 KST at the end of the N-th day after the day (in KST) "
                                "the decision was published (see `[grievances]`)")
    places: Literal["refill", "fixed"] = Field(
        "refill", description="refill: the cut counts only teams that pass the gates, so a team failing a gate "
        "frees its place for the next on points; fixed: the `keep` places go by points over every team, as the "
        "first real stage did, and a team failing a gate loses its place without it being refilled (fewer than "
        "`keep` may then advance, and the decision says so)")


class Suites(Strict):
    """Which suites feed which benchmark component, and how many items of each to run."""

    ministry: list[str] = Field([], description="suite ids scored under `scheme.ministry`")
    global_common: list[str] = Field([], description="suite ids scored under `scheme.global_common`")
    global_individual: list[str] = Field([], description="suite ids scored under `scheme.global_individual`")
    limit: int | None = Field(None, ge=1, description="run only the first N items of each suite; none: all")
    num_fewshot: dict[str, int] = Field({}, description="few-shot examples per suite id, overriding the "
                                        "suite's own setting")
    limits: dict[str, Annotated[int, Field(ge=1)]] = Field({}, description="items to run per suite id, "
                                                           "overriding `limit` for that suite")
    max_new_tokens: dict[str, Annotated[int, Field(ge=1)]] = Field(
        {}, description="answer token budget per suite id (thinking included), overriding the suite's own "
                        "`generate.max_new_tokens`; part of the run's settings")

    def limit_of(self, suite: str) -> int | None:
        """How many items of `suite` a stage runs."""
        return self.limits.get(suite, self.limit)

    def component_of(self, suite: str) -> str:
        for component in COMPONENTS:
            if suite in getattr(self, component):
                return component
        raise KeyError(suite)

    @property
    def all(self) -> list[str]:
        return list(dict.fromkeys(self.ministry + self.global_common + self.global_individual))

    @model_validator(mode="after")
    def overrides_name_stage_suites(self) -> "Suites":
        for name in ("limits", "max_new_tokens"):
            unknown = sorted(set(getattr(self, name)) - set(self.all))
            if unknown:
                raise ValueError(f"{name} names {', '.join(unknown)}, not among the stage's suites")
        return self


class Member(Strict):
    """A member of a team's consortium; the call for teams requires at least one student."""

    name: str = Field(description="the member's name")
    organisation: str = Field("", description="the member's organisation")
    role: Literal["lead", "industry", "university", "student", "researcher", "other"] = Field(
        description="the member's role in the consortium")


class Team(Strict):
    """A team (consortium) in the programme."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="short id used on the command line "
                    "(lower-case letters, digits, - and _)")
    name: str = Field(description="name in English")
    name_ko: str = Field("", description="name in Korean")
    target: str | None = Field(None, description="the frontier reference this team measures itself against")
    members: list[Member] = Field(description="the consortium's members (`[[teams.members]]`)")


class Model(Strict):
    """A runnable model: a Hugging Face directory, a GGUF file, or an OpenAI-compatible endpoint."""

    name: str = Field(description="the model's name, unique in the programme")
    location: str = Field(description="a Hugging Face directory, a .gguf file (a relative path is taken from "
                          "the programme file's folder), `package:NAME` (see the list of packaged models), or an "
                          "OpenAI-compatible endpoint URL (http(s)://…/v1)")
    chat: bool = Field(False, description="use the model's chat template for generation")
    team: str | None = Field(None, description="the team this model is submitted for (to the first stage)")
    build: str | None = Field(None, description="demo only: how to make the model if it does not exist yet")


class Reference(Strict):
    """A global model the teams are measured against; frontier only if released within the window."""

    name: str = Field(description="the reference's name")
    vendor: str = Field(description="who released it")
    released: dt.date = Field(description="its public release date (YYYY-MM-DD)")
    model: str | None = Field(None, description="a `[[models]]` name to run it with the harness")
    scores: dict[str, float] = Field({}, description="published scores per suite id, used where it is not run")
    source: str = Field("", description="where the published scores come from")

    @model_validator(mode="after")
    def runnable_or_published(self) -> "Reference":
        if not self.model and not self.scores:
            raise ValueError("needs a runnable `model` or published `scores`")
        return self


class Programme(Strict):
    """A programme file: the scheme, the stages, the suites and the parties."""

    name: str = Field(description="the programme's name in English")
    name_ko: str = Field("", description="the programme's name in Korean")
    scheme: Scheme = Field(Scheme(), description="points per component (`[scheme]`)")
    frontier: Frontier = Field(Frontier(), description="the moving target (`[frontier]`)")
    gates: Gates = Field(Gates(), description="pass-or-fail gates (`[gates]`)")
    stages: list[Stage] = Field(min_length=1, description="the stage evaluations, in date order (`[[stages]]`)")
    suites: Suites = Field(Suites(), description="which suites feed which component (`[suites]`)")
    teams: list[Team] = Field([], description="the teams (`[[teams]]`)")
    models: list[Model] = Field([], description="the models (`[[models]]`)")
    references: list[Reference] = Field([], description="the frontier references (`[[references]]`)")
    arena: Arena = Field(Arena(), description="how arena ratings become user points (`[arena]`)")
    robustness: Robustness = Field(Robustness(), description="how sure each elimination is (`[robustness]`)")
    panel: Panel = Field(Panel(), description="the expert panel: rubric, assignment, agreement (`[panel]`)")
    grievances: Grievances = Field(Grievances(), description="how grievances are filed and ruled "
                                   "(`[grievances]`)")
    repechage: Repechage = Field(Repechage(), description="the repechage call's rules (`[repechage]`)")
    resources: Resources = Field(Resources(), description="the resources ledger: GPUs, data, talent "
                                 "(`[resources]`)")
    disclosure: Literal["full", "public"] = Field(
        "full", description="what `dokja bundle` publishes by default: full (every per-item output, the inputs "
        "and the decision; for auditors and the teams) or public (outcomes, ranks and gates only, per-team scores "
        "withheld as the real programme did); both verify")

    @field_validator("teams", "models", "references")
    @classmethod
    def names_unique(cls, entries: list) -> list:
        keys = [getattr(e, "id", None) or e.name for e in entries]
        repeated = sorted({k for k in keys if keys.count(k) > 1})
        if repeated:
            raise ValueError(f"{', '.join(repeated)} listed more than once")
        return entries

    @field_validator("stages")
    @classmethod
    def stages_in_order(cls, stages: list[Stage]) -> list[Stage]:
        ids = [s.id for s in stages]
        if len(set(ids)) != len(ids):
            raise ValueError("stage ids must be unique")
        if [s.date for s in stages] != sorted(s.date for s in stages):
            raise ValueError("stages must be listed in date order")
        return stages

    @model_validator(mode="after")
    def panel_weights_are_the_expert_points(self) -> "Programme":
        criteria = self.panel.criteria if "panel" in self.model_fields_set else None
        weight = sum(c.weight for c in criteria or ())
        if criteria and abs(weight - self.scheme.expert) > 1e-6:
            raise ValueError(f"panel.criteria: the weights sum to {weight:g}; scheme.expert is "
                             f"{self.scheme.expert:g}")
        return self

    @model_validator(mode="after")
    def resources_name_known_parties(self) -> "Programme":
        from .resources import check_resources

        problems = check_resources(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def stage(self, stage_id: str | None = None) -> Stage:
        if stage_id is None:
            return self.stages[0]
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(f"no stage {stage_id!r}; stages are {[s.id for s in self.stages]}")
