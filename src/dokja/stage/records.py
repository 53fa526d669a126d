"""A decision's inputs and the decision itself as typed, frozen records with one canonical JSON form.

`StageInputs` holds everything a decision uses, per-item scores included, so `decide(inputs)` is pure and
anyone holding the inputs recomputes the decision to the byte (RFC 8785 canonical JSON).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, PrivateAttr

from ..arena.leaderboard import VoteRecord
from ..audit.log import canonical_json
from ..panel.records import PanelResult, PanelScores
from ..programme import Programme


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    _bytes: bytes | None = PrivateAttr(None)

    def __eq__(self, other: object) -> bool:
        """Equal fields, whatever has been cached."""
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # records hold dicts; equality is by value

    def canonical(self) -> bytes:
        """RFC 8785 canonical JSON: equal records give identical bytes (computed once: records are frozen)."""
        if self._bytes is None:
            self._bytes = canonical_json(self.model_dump(mode="json"))
        return self._bytes

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def finite(x: float | None) -> float | None:
    """NaN and infinities have no JSON form: they become null."""
    return None if x is None or not math.isfinite(x) else float(x)


class ItemScore(Record):
    item: str
    score: float


class RunUsed(Record):
    """The run a decision takes for one model on one suite, with every scored item's primary metric."""

    run_id: int
    suite: str
    metric: str
    limit: int | None
    num_fewshot: int
    commitment: str  # the suite's SHA-256 when the run was made
    config_hash: str
    items: tuple[ItemScore, ...]


class SuiteUsed(Record):
    id: str
    title_en: str
    title_ko: str = ""
    component: str
    metric: str
    commitment: str
    n_items: int


class ReviewerNote(Record):
    reviewer: str = ""
    note: str
    passed: bool | None = None


class ProvenanceEvidence(Record):
    """The stored provenance verdict of a team's model, as the gate reads it."""

    check_id: int | None  # None: reviewers' notes without an automatic check
    passed: bool | None  # the standing outcome: the latest reviewer's ruling over the automatic verdict
    automatic: bool | None
    summary: str
    checked_at: str | None = None
    components: tuple[dict[str, Any], ...] = ()  # per component: verdict, similarity, threshold, null, tensors
    notes: tuple[ReviewerNote, ...] = ()


class Ruling(Record):
    """A reviewers' row from the findings file: passed or not, and why."""

    passed: bool
    note: str = ""


class Evidence(Record):
    """Everything the independence gate rests on for one team."""

    provenance: ProvenanceEvidence | None = None
    ruling: Ruling | None = None
    hash_match: str | None = None  # the reference whose checkpoint hashes identically


class TeamEntry(Record):
    id: str
    name: str
    name_ko: str = ""
    target: str | None = None
    model: str
    model_sha256: str | None = None
    runs: dict[str, RunUsed]
    expert: float | None = None  # given by hand (CSV); otherwise from the closed panel's scores
    user: float | None = None  # given by hand (CSV); otherwise from the arena
    evidence: Evidence = Evidence()


class ReferenceEntry(Record):
    name: str
    vendor: str
    released: dt.date
    source: str = ""
    published: dict[str, float] = {}
    model: str | None = None
    model_sha256: str | None = None
    runs: dict[str, RunUsed] = {}


class ArenaUsed(Record):
    """The votes counted (each with the flags it carried) and where they came from."""

    source: str
    votes: tuple[VoteRecord, ...]


class StageInputs(Record):
    programme: Programme
    programme_sha256: str
    stage: str
    decided_at: str
    teams: tuple[TeamEntry, ...]
    references: tuple[ReferenceEntry, ...]
    suites: tuple[SuiteUsed, ...]
    user_source: Literal["arena", "csv"]
    arena: ArenaUsed | None = None
    panel: PanelScores | None = None  # the closed panel's scores; none: expert points given by hand
    supersedes: int | None = None
    reason: str = ""
    version: str = ""


class Gate(Record):
    passed: bool
    note: str


class SuiteScore(Record):
    score: float | None
    stderr: float | None
    n: int
    metric: str
    ratio: float | None


class Points(Record):
    ministry: float
    global_common: float
    global_individual: float
    benchmark: float
    expert: float
    user: float


class TeamResult(Record):
    id: str
    name: str
    name_ko: str
    model: str
    model_sha256: str | None
    target: str | None
    points: Points
    total: float
    suite_scores: dict[str, SuiteScore]
    frontier_ratio: float | None
    meets_target: bool
    gates: dict[str, Gate]
    rank: int | None
    outcome: Literal["advance", "eliminated"]
    reason: str


class FrontierRow(Record):
    name: str
    vendor: str
    released: str
    eligible: bool
    reason: str
    source: str
    scores: dict[str, float]


class FrontierBest(Record):
    name: str
    score: float


class SuiteRow(Record):
    id: str
    title_en: str
    title_ko: str
    component: str
    metric: str
    n_items: int | None
    commitment: str
    frontier_best: FrontierBest | None


class StageRow(Record):
    id: str
    name: str
    name_ko: str
    date: str
    keep: int
    window_start: str
    target_ratio: float
    grievance_days: int
    status: str


class Shortfall(Record):
    """Fewer teams advance than the stage planned (gates removed teams whose places were not refilled)."""

    kept: int
    planned: int
    text_en: str
    text_ko: str


class Placing(Record):
    """One team's place in one decision; rank None: it failed a gate and was not ranked."""

    team: str
    rank: int | None
    advanced: bool
    total: float


class TeamOdds(Record):
    """How often a team landed where over the replicates, beside where the decision put it."""

    team: str
    rank: int | None  # in the original decision
    advanced: bool  # in the original decision
    p_rank: tuple[float, ...]  # probability of rank 1..n; the shortfall from 1 is failing a gate
    p_advance: float
    p_eliminated: float


class CloseCall(Record):
    """An advancing and an eliminated team whose order the replicates can reverse."""

    advanced: str
    eliminated: str
    p_flip: float  # share of replicates where `advanced` is out or `eliminated` passes it and advances
    gap: float  # their difference in total points in the original decision
    at_cut: bool  # the last team in and the first team out on points
    text: str


class Robustness(Record):
    rounds: int
    seed: int
    original: tuple[Placing, ...]
    teams: tuple[TeamOdds, ...]
    cut: CloseCall | None  # always the pair straddling the cut, flipping or not; None if there is no cut
    close_calls: tuple[CloseCall, ...]  # the cut pair if it ever flips, others if they flip ≥ robustness.FLIP_MIN


class Decision(Record):
    """A stage decision as `decide` returns it; nothing edits it afterwards."""

    programme: dict[str, str]
    programme_sha256: str
    inputs_sha256: str
    stage: StageRow
    scheme: dict[str, float]
    frontier: tuple[FrontierRow, ...]
    suites: tuple[SuiteRow, ...]
    teams: tuple[TeamResult, ...]
    provenance: tuple[dict[str, Any], ...]
    user_source: str
    arena: dict[str, Any] | None
    panel: PanelResult | None = None  # expert points from the panel: means, agreement, severity offsets
    robustness: Robustness | None  # None when the programme asks for no resampling (rounds = 0)
    verdicts: dict[str, str]  # team → advance, eliminated, or "more evaluation needed" (the pre-registered rule)
    shortfall: Shortfall | None = None  # fewer advance than planned: the office may open a repechage
    generated_at: str
    supersedes: int | None
    reason: str
    dokja_version: str
