"""The stage decision: scores → frontier ratios → points → gates → ranking → who advances. Pure."""

from __future__ import annotations

import datetime as dt
import math

from ..programme import COMPONENTS, Programme, Stage, frontier_window
from .inputs import ReferenceInput, StageError, TeamInput


def eligible_references(refs: list[ReferenceInput], stage: Stage, months: int) -> list[dict]:
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
        out.append({"name": ref.name, "vendor": ref.vendor, "released": ref.released.isoformat(),
                    "eligible": ok, "reason": why, "source": ref.source, "scores": dict(ref.scores)})
    return out


def frontier_best(refs: list[ReferenceInput], eligible: set[str], suite: str) -> tuple[str, float] | None:
    """The eligible reference with the highest score on a suite, as (name, score)."""
    scored = [(r.scores[suite], r.name) for r in refs if r.name in eligible and suite in r.scores]
    if not scored:
        return None
    score, name = max(scored)
    return name, score


def _ratio(score: float | None, base: float | None) -> float | None:
    if score is None or base is None or base <= 0 or math.isnan(score):
        return None
    return score / base


def _check_points(value: float | None, cap: float, what: str, team: str) -> float:
    if value is None:
        raise StageError(f"no {what} points for team {team!r}")
    if not 0 <= value <= cap:
        raise StageError(f"{what} points for team {team!r} are {value}, outside 0–{cap}")
    return value


def decide(programme: Programme, stage: Stage, teams: list[TeamInput], refs: list[ReferenceInput],
           suites: dict[str, dict], *, generated_at: str | None = None, version: str = "") -> dict:
    """The whole decision as plain data: the report renders it and anyone can recompute it."""
    if not teams:
        raise StageError(f"stage {stage.id!r} has no teams with submissions")
    scheme, rule = programme.scheme, programme.frontier
    frontier = eligible_references(refs, stage, rule.window_months)
    eligible = {f["name"] for f in frontier if f["eligible"]}
    by_name = {r.name: r for r in refs}
    suite_rows, best = [], {}
    for suite in programme.suites.all:
        component = programme.suites.component_of(suite)
        found = frontier_best(refs, eligible, suite)
        best[suite] = found[1] if found else None
        meta = suites.get(suite, {})
        suite_rows.append({"id": suite, "title_en": meta.get("title_en", suite), "title_ko": meta.get("title_ko", ""),
                           "component": component, "metric": meta.get("metric", ""), "n_items": meta.get("n_items"),
                           "frontier_best": {"name": found[0], "score": found[1]} if found else None})
    rows = []
    for team in teams:
        suite_scores, ratios = {}, {c: [] for c in COMPONENTS}
        for suite in programme.suites.all:
            component = programme.suites.component_of(suite)
            got = team.scores.get(suite)
            base = best[suite]
            if component == "global_individual" and team.target:
                if team.target not in by_name:
                    raise StageError(f"team {team.id!r} targets {team.target!r}, which is not a frontier reference")
                base = by_name[team.target].scores.get(suite, base)
            ratio = _ratio(got.score if got else None, base)
            ratios[component].append(ratio)
            suite_scores[suite] = {"score": got.score if got else None, "stderr": got.stderr if got else None,
                                   "n": got.n if got else 0, "metric": got.metric if got else "", "ratio": ratio}
        points = {}
        for component in COMPONENTS:
            values = [min(r, rule.ratio_cap) if r is not None else 0.0 for r in ratios[component]]
            points[component] = getattr(scheme, component) * (sum(values) / len(values)) if values else 0.0
        points["benchmark"] = sum(points[c] for c in COMPONENTS)
        points["expert"] = _check_points(team.expert, scheme.expert, "expert", team.id)
        points["user"] = _check_points(team.user, scheme.user, "user", team.id)
        headline = [r for c in ("ministry", "global_common") for r in ratios[c]]
        frontier_ratio = sum(r or 0.0 for r in headline) / len(headline) if headline else None
        gates = {}
        if programme.gates.independence:
            finding = team.independence
            gates["independence"] = ({"passed": finding.passed, "note": finding.note} if finding else
                                     {"passed": True, "note": "no finding recorded"})
        if programme.gates.safety_suite:
            got = team.scores.get(programme.gates.safety_suite)
            floor = programme.gates.safety_min_score
            passed = got is not None and got.score >= floor
            note = (f"{programme.gates.safety_suite} {got.score:.3f} {'≥' if passed else '<'} {floor:.3f}" if got
                    else f"{programme.gates.safety_suite} not evaluated")
            gates["safety"] = {"passed": passed, "note": note}
        rows.append({"id": team.id, "name": team.name, "name_ko": team.name_ko, "model": team.model,
                     "target": team.target, "points": {k: round(v, 4) for k, v in points.items()},
                     "total": round(points["benchmark"] + points["expert"] + points["user"], 4),
                     "suite_scores": suite_scores, "frontier_ratio": frontier_ratio,
                     "meets_target": frontier_ratio is not None and frontier_ratio >= rule.target_ratio,
                     "gates": gates})
    _rank(rows, stage.keep)
    start, _ = frontier_window(stage.date, rule.window_months)
    return {
        "programme": {"name": programme.name, "name_ko": programme.name_ko},
        "stage": {"id": stage.id, "name": stage.name, "name_ko": stage.name_ko, "date": stage.date.isoformat(),
                  "keep": stage.keep, "window_start": start.isoformat(), "target_ratio": rule.target_ratio,
                  "grievance_days": stage.grievance_days, "status": "decided"},
        "scheme": scheme.model_dump(),
        "frontier": frontier,
        "suites": suite_rows,
        "teams": rows,
        "generated_at": generated_at or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dokja_version": version,
    }


def _rank(rows: list[dict], keep: int) -> None:
    """Gate failures go out first; the rest rank by total, then benchmark points, then name; the top `keep` advance."""
    failed = [r for r in rows if any(not g["passed"] for g in r["gates"].values())]
    ranked = sorted((r for r in rows if r not in failed),
                    key=lambda r: (-r["total"], -r["points"]["benchmark"], r["name"]))
    for place, row in enumerate(ranked, 1):
        row["rank"] = place
        if place <= keep:
            row["outcome"], row["reason"] = "advance", f"rank {place} of {len(ranked)}, within the {keep} kept"
        else:
            row["outcome"], row["reason"] = "eliminated", f"rank {place} of {len(ranked)}, below the {keep} kept"
    for row in failed:
        gates = ", ".join(name for name, g in row["gates"].items() if not g["passed"])
        row["rank"], row["outcome"], row["reason"] = None, "eliminated", f"failed the {gates} gate"
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["name"]))
