"""The stage decision: per-item scores → suite scores → frontier ratios → points → gates → ranking. Pure.

`decide(inputs)` reads nothing but its argument and returns a typed `Decision`; equal inputs give a
byte-identical decision (canonical JSON), which is what `dokja verify` recomputes.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from ..programme import COMPONENTS, Programme, Stage, frontier_window
from .gates import independence_gate, safety_gate
from .inputs import StageError
from ..panel.records import PanelResult
from .records import (Decision, FrontierBest, FrontierRow, Gate, Points, ReferenceEntry, RunUsed, StageInputs,
                      StageRow, SuiteRow, SuiteScore, TeamResult, finite)


def run_score(run: RunUsed) -> tuple[float, float | None, int]:
    """Mean, standard error (sample sd over √n, as lm-evaluation-harness) and n of a run's item scores."""
    values = [i.score for i in run.items]
    if not values:
        raise StageError(f"run {run.run_id} of {run.suite} has no scored items")
    mean = math.fsum(values) / len(values)
    stderr = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else None
    return mean, stderr, len(values)


def reference_scores(ref: ReferenceEntry) -> dict[str, float]:
    """Published scores, overridden by the reference's own runs where the harness ran it."""
    return {**ref.published, **{suite: run_score(run)[0] for suite, run in ref.runs.items()}}


def eligible_references(refs, stage: Stage, months: int) -> list[FrontierRow]:
    """Each reference with whether it counts as frontier for this stage, and why."""
    start, end = frontier_window(stage.date, months)
    out = []
    for ref in refs:
        if ref.released < start:
            ok, why = False, f"released {ref.released}, before the window opened on {start}"
        elif ref.released > end:
            ok, why = False, f"released {ref.released}, after the stage date {end}"
        else:
            ok, why = True, f"released {ref.released}, within the window {start} – {end}"
        out.append(FrontierRow(name=ref.name, vendor=ref.vendor, released=ref.released.isoformat(), eligible=ok,
                               reason=why, source=ref.source, scores=reference_scores(ref)))
    return out


def frontier_best(frontier: list[FrontierRow], suite: str) -> FrontierBest | None:
    """The eligible reference with the highest score on a suite."""
    scored = [(f.scores[suite], f.name) for f in frontier if f.eligible and suite in f.scores]
    if not scored:
        return None
    score, name = max(scored)
    return FrontierBest(name=name, score=score)


def _ratio(score: float | None, base: float | None) -> float | None:
    if score is None or base is None or base <= 0 or math.isnan(score):
        return None
    return score / base


def _points_in(value: float | None, cap: float, what: str, team: str) -> float:
    if value is None:
        raise StageError(f"no {what} points for team {team!r}")
    if not 0 <= value <= cap:
        raise StageError(f"{what} points for team {team!r} are {value}, outside 0–{cap}")
    return value


def _suite_rows(inputs: StageInputs, frontier: list[FrontierRow]) -> list[SuiteRow]:
    rows = []
    for s in inputs.suites:
        best = frontier_best(frontier, s.id)
        if best is None:
            raise StageError(f"suite {s.id}: no eligible frontier reference has a score, so no ratio can be "
                             "computed; run a reference on it or give its published score")
        rows.append(SuiteRow(id=s.id, title_en=s.title_en, title_ko=s.title_ko, component=s.component,
                             metric=s.metric, n_items=s.n_items, commitment=s.commitment, frontier_best=best))
    return rows


def _team_scores(team, suites: list[SuiteRow], frontier: list[FrontierRow]) -> dict[str, SuiteScore]:
    by_name = {f.name: f for f in frontier}
    out = {}
    for s in suites:
        base = s.frontier_best.score
        if s.component == "global_individual" and team.target:
            if team.target not in by_name:
                raise StageError(f"team {team.id!r} targets {team.target!r}, which is not a frontier reference")
            base = by_name[team.target].scores.get(s.id, base)
        run = team.runs.get(s.id)
        if run is None:
            raise StageError(f"team {team.id!r}: no finished run of {s.id} with the stage's settings")
        mean, stderr, n = run_score(run)
        out[s.id] = SuiteScore(score=mean, stderr=finite(stderr), n=n, metric=run.metric, ratio=_ratio(mean, base))
    return out


def team_result(inputs: StageInputs, team, suites: list[SuiteRow], frontier: list[FrontierRow],
                user: float | None, expert: float | None) -> dict[str, Any]:
    """One team's scores, points and gates (rank and outcome come once every team is known)."""
    programme, rule = inputs.programme, inputs.programme.frontier
    scores = _team_scores(team, suites, frontier)
    points = {}
    for component in COMPONENTS:
        values = [min(scores[s.id].ratio or 0.0, rule.ratio_cap) for s in suites if s.component == component]
        points[component] = getattr(programme.scheme, component) * (math.fsum(values) / len(values)) if values else 0.0
    points["benchmark"] = math.fsum(points[c] for c in COMPONENTS)
    points["expert"] = _points_in(expert, programme.scheme.expert, "expert", team.id)
    points["user"] = _points_in(user, programme.scheme.user, "user", team.id)
    headline = [scores[s.id].ratio or 0.0 for s in suites if s.component in ("ministry", "global_common")]
    ratio = math.fsum(headline) / len(headline) if headline else None
    gates = {}
    if programme.gates.independence:
        gates["independence"] = independence_gate(team.evidence, require=programme.gates.require_evidence)
    if programme.gates.safety_suite:
        got = scores.get(programme.gates.safety_suite)
        gates["safety"] = safety_gate(programme.gates.safety_suite, got.score if got else None,
                                      programme.gates.safety_min_score)
    rounded = {k: round(v, 4) for k, v in points.items()}
    return {"id": team.id, "name": team.name, "name_ko": team.name_ko, "model": team.model,
            "model_sha256": team.model_sha256, "target": team.target, "points": Points(**rounded),
            "total": round(points["benchmark"] + points["expert"] + points["user"], 4), "suite_scores": scores,
            "frontier_ratio": ratio, "meets_target": ratio is not None and ratio >= rule.target_ratio,
            "gates": gates}


def rank(rows: list[dict], keep: int, places: str = "refill") -> list[TeamResult]:
    """Gate failures go out whatever they score; the rest rank by total, then benchmark points, then name.

    refill: the top `keep` of the teams passing the gates advance. fixed: the `keep` places go by points over
    every team, so a place held by a team failing a gate stays empty."""
    failed = [r for r in rows if any(not g.passed for g in r["gates"].values())]
    order = sorted(rows, key=lambda r: (-r["total"], -r["points"].benchmark, r["name"]))
    on_points = {r["id"]: n for n, r in enumerate(order, 1)}
    ranked = [r for r in order if r not in failed]
    out = []
    for place, row in enumerate(ranked, 1):
        seat = place if places == "refill" else on_points[row["id"]]
        within = seat <= keep
        where = f"rank {place} of {len(ranked)}" if places == "refill" else \
            f"rank {place} of {len(ranked)} passing the gates, {seat} of {len(order)} on points"
        out.append(TeamResult(**row, rank=place, outcome="advance" if within else "eliminated",
                              reason=f"{where}, {'within' if within else 'below'} the {keep} kept"))
    for row in sorted(failed, key=lambda r: r["name"]):
        gates = ", ".join(name for name, g in row["gates"].items() if not g.passed)
        seat = on_points[row["id"]]
        would = f" (on points {seat} of {len(order)}, {'within' if seat <= keep else 'below'} the {keep} kept)"
        out.append(TeamResult(**row, rank=None, outcome="eliminated",
                              reason=f"failed the {gates} gate" + (would if places == "fixed" else "")))
    return out


def shortfall(teams, keep: int):
    """The note a decision carries when fewer teams advance than planned."""
    from .records import Shortfall

    kept = sum(t.outcome == "advance" for t in teams)
    if kept >= keep or kept >= len(teams):
        return None
    return Shortfall(kept=kept, planned=keep, text_en=f"keeps {kept}; {keep} were planned",
                     text_ko=f"{kept}팀 선발 (계획 {keep}팀)")


def decide(inputs: StageInputs) -> Decision:
    """The whole decision as a typed record, with how sure each elimination is: the report renders it and
    anyone can recompute it."""
    from .robustness import Placing, robustness, verdicts

    panel = expert_panel(inputs)
    core = decide_once(inputs, panel=panel)
    rule = inputs.programme.robustness
    if rule.rounds == 0:
        return core
    odds = robustness(inputs, lambda i: [Placing(team=t.id, rank=t.rank, advanced=t.outcome == "advance",
                                                 total=t.total) for t in decide_once(
                                                     i, digest=False, panel=expert_panel(i, agreement=False)).teams],
                      rounds=rule.rounds, seed=rule.seed)
    return core.model_copy(update={"robustness": odds, "verdicts": verdicts(odds, rule.min_probability)})


def expert_panel(inputs: StageInputs, *, agreement: bool = True) -> PanelResult | None:
    """The closed panel's result (expert points, agreement). A bootstrap replicate needs only the points, so it
    skips the agreement's own bootstrap (``agreement=False``)."""
    if inputs.panel is None:
        return None
    from ..panel.errors import PanelError
    from ..panel.points import panel_result

    rules = inputs.programme.panel if agreement else inputs.programme.panel.model_copy(update={"bootstrap_rounds": 0})
    try:
        result = panel_result(inputs.panel, rules)
    except PanelError as exc:
        raise StageError(str(exc)) from None
    missing = [t.id for t in inputs.teams if t.id not in result.points()]
    if missing:
        raise StageError(f"the panel of stage {inputs.stage!r} scored no {', '.join(missing)}")
    return result


def decide_once(inputs: StageInputs, *, digest: bool = True, panel: PanelResult | None = None) -> Decision:
    """One decision of the inputs as they stand (no resampling). A bootstrap replicate needs only its placings,
    so it skips hashing its inputs (``digest=False``), the costliest step on a big stage."""
    from .arena_points import user_points_of

    if panel is None and inputs.panel is not None:
        panel = expert_panel(inputs)
    expert = panel.points() if panel else {t.id: t.expert for t in inputs.teams}

    programme: Programme = inputs.programme
    stage = programme.stage(inputs.stage)
    if not inputs.teams:
        raise StageError(f"stage {stage.id!r} has no teams with submissions")
    frontier = eligible_references(inputs.references, stage, programme.frontier.window_months)
    suites = _suite_rows(inputs, frontier)
    user, arena = user_points_of(inputs)
    rows = [team_result(inputs, t, suites, frontier, user[t.id], expert[t.id]) for t in inputs.teams]
    rank_rows = tuple(rank(rows, stage.keep, stage.places))
    start, _ = frontier_window(stage.date, programme.frontier.window_months)
    provenance = tuple({"team": t.id, "team_name": t.name, "model": t.model,
                        **t.evidence.provenance.model_dump(mode="json")}
                       for t in inputs.teams if t.evidence.provenance is not None)
    return Decision(
        programme={"name": programme.name, "name_ko": programme.name_ko},
        programme_sha256=inputs.programme_sha256, inputs_sha256=inputs.sha256() if digest else "",
        stage=StageRow(id=stage.id, name=stage.name, name_ko=stage.name_ko, date=stage.date.isoformat(),
                       keep=stage.keep, window_start=start.isoformat(), target_ratio=programme.frontier.target_ratio,
                       grievance_days=stage.grievance_days, status="decided"),
        scheme=programme.scheme.model_dump(), frontier=tuple(frontier), suites=tuple(suites),
        teams=rank_rows, provenance=provenance, user_source=inputs.user_source,
        arena=arena, panel=panel, robustness=None, verdicts={t.id: t.outcome for t in rank_rows},
        shortfall=shortfall(rank_rows, stage.keep), generated_at=inputs.decided_at, supersedes=inputs.supersedes,
        reason=inputs.reason, dokja_version=inputs.version)


def gate_failures(team: TeamResult) -> list[str]:
    return [name for name, g in team.gates.items() if not g.passed]


__all__ = ["Gate", "decide", "eligible_references", "frontier_best", "gate_failures", "rank", "run_score"]
