"""Stage reports: one self-contained, bilingual (English · 한국어) HTML file per stage.

The input is the plain dict the stage decision code produces (see
``tests/report/sample_stage.json``). This module only *presents* that decision: it
never re-ranks teams or re-judges gates, so the page cannot disagree with the record.
Everything the page needs is inline (CSS, SVG charts); it makes no network requests.
"""

from __future__ import annotations


import math
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .odds import odds_chart, odds_view

from . import charts
from .charts import COMPONENTS, FONT_FAMILY, gate_label, team_colour

__all__ = ["render_stage_report", "write_stage_report"]

EMPTY = "—"
_TEMPLATES = Path(__file__).parent / "templates"

_STATUS = {
    "decided": ("Decided", "확정"),
    "final": ("Final", "최종"),
    "provisional": ("Provisional", "잠정"),
    "draft": ("Draft", "초안"),
    "pending": ("Pending", "대기"),
}
_OUTCOME = {"advance": ("Advance", "진출"), "eliminated": ("Eliminated", "탈락")}
_COMPONENT_ORDER = {key: i for i, (key, *_rest) in enumerate(COMPONENTS)}

if TYPE_CHECKING:
    from ..arena.deanon import Deanon
    from .cost import TeamCost
    from .office import OfficeView


def _num(value: Any) -> float | None:
    """A finite number, or None: JSON may carry null, strings or NaN where a score is missing."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _fmt_num(value: Any, digits: int = 1) -> str:
    v = _num(value)
    return EMPTY if v is None else f"{v:.{digits}f}"


def _fmt_pct(value: Any, digits: int | None = 1) -> str:
    """Percent with fixed decimals; ``digits=None`` gives the shortest exact form (95%, 95.5%)."""
    v = _num(value)
    if v is None:
        return EMPTY
    return f"{round(v * 100, 6):g}%" if digits is None else f"{v * 100:.{digits}f}%"


def _fmt_points(value: Any) -> str:
    v = _num(value)
    return EMPTY if v is None else f"{v:g}"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=True,  # names, notes and reasons come from teams: never trust them
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(num=_fmt_num, pct=_fmt_pct, pts=_fmt_points)
    return env


def _team_view(raw: Mapping[str, Any], gate_names: list[str]) -> dict[str, Any]:
    points = raw.get("points") or {}
    gates_raw = raw.get("gates") or {}
    gates = []
    for name in gate_names:
        g = gates_raw.get(name)
        passed = g.get("passed") if isinstance(g, Mapping) else None
        en, ko = gate_label(name)
        gates.append({
            "key": name, "en": en, "ko": ko,
            "passed": passed if isinstance(passed, bool) else None,
            "note": _text(g.get("note")) if isinstance(g, Mapping) else "",
        })
    outcome = _text(raw.get("outcome")) or None
    meets = raw.get("meets_target")
    return {
        "id": _text(raw.get("id")),
        "name": _text(raw.get("name") or raw.get("id") or "?"),
        "name_ko": _text(raw.get("name_ko")),
        "model": _text(raw.get("model")),
        "rank": _int(raw.get("rank")),
        "total": _num(raw.get("total")),
        "points": {k: _num(points.get(k)) for k in [*_COMPONENT_ORDER, "benchmark"]},
        "frontier_ratio": _num(raw.get("frontier_ratio")),
        "meets_target": meets if isinstance(meets, bool) else None,
        "gates": {g["key"]: {"passed": g["passed"]} for g in gates},  # the shape charts read
        "gate_rows": gates,
        "failed_gates": [g for g in gates if g["passed"] is False],
        "outcome": outcome,
        "outcome_label": _OUTCOME.get(outcome or "", (outcome or "Pending", outcome or "미정")),
        "reason": _text(raw.get("reason")),
        "suite_scores": {
            _text(k): {
                "score": _num(v.get("score")), "stderr": _num(v.get("stderr")),
                "ratio": _num(v.get("ratio")), "n": _int(v.get("n")), "metric": _text(v.get("metric")),
            }
            for k, v in (raw.get("suite_scores") or {}).items()
            if isinstance(v, Mapping)
        },
    }


def _order_key(team: Mapping[str, Any]) -> tuple:
    """Advancing teams by rank, then eliminated ones by rank, then gate failures (no rank)."""
    rank = team["rank"]
    return (team["outcome"] != "advance", rank is None, rank if rank is not None else 0, team["name"].casefold())


def _view(data: Mapping[str, Any]) -> dict[str, Any]:
    """Normalise the decision dict so the template never has to guess about missing keys."""
    programme = data.get("programme") or {}
    stage = data.get("stage") or {}
    scheme = data.get("scheme") or {}
    raw_teams = [t for t in (data.get("teams") or []) if isinstance(t, Mapping)]

    gate_names: list[str] = ["independence", "safety"]
    for t in raw_teams:
        for name in t.get("gates") or {}:
            if name not in gate_names:
                gate_names.append(str(name))
    if not any((t.get("gates") or {}).get(g) for t in raw_teams for g in ("independence", "safety")):
        gate_names = gate_names[2:]
    teams = sorted((_team_view(t, gate_names) for t in raw_teams), key=_order_key)
    for i, team in enumerate(teams):
        team["colour"] = team_colour(i)

    components = [
        {"key": k, "en": en, "ko": ko, "colour": colour, "max": _num(scheme.get(k))}
        for k, en, ko, colour in COMPONENTS
    ]
    bench_keys = ("ministry", "global_common", "global_individual")
    bench_max = sum(_num(scheme.get(k)) or 0.0 for k in bench_keys) or None
    total_max = sum(_num(scheme.get(k)) or 0.0 for k, *_ in COMPONENTS) or None

    labels = {k: (en, ko) for k, en, ko, _c in COMPONENTS}
    suites = []
    for s in data.get("suites") or []:
        if not isinstance(s, Mapping):
            continue
        best = s.get("frontier_best") if isinstance(s.get("frontier_best"), Mapping) else {}
        comp = _text(s.get("component"))
        suites.append({
            "id": _text(s.get("id")),
            "title_en": _text(s.get("title_en") or s.get("id")),
            "title_ko": _text(s.get("title_ko")),
            "component": comp,
            "component_label": labels.get(comp, (comp or EMPTY, comp or EMPTY)),
            "metric": _text(s.get("metric")),
            "n_items": _int(s.get("n_items")),
            "frontier_best": {"name": _text(best.get("name")), "score": _num(best.get("score"))},
        })
    suites.sort(key=lambda s: _COMPONENT_ORDER.get(s["component"], len(_COMPONENT_ORDER)))

    best_on: dict[str, list[str]] = {}
    for s in suites:
        if s["frontier_best"]["name"]:
            best_on.setdefault(s["frontier_best"]["name"], []).append(s["title_en"])
    frontier = []
    for r in data.get("frontier") or []:
        if not isinstance(r, Mapping):
            continue
        name = _text(r.get("name"))
        frontier.append({
            "name": name, "vendor": _text(r.get("vendor")), "released": _text(r.get("released")),
            "eligible": r.get("eligible") if isinstance(r.get("eligible"), bool) else None,
            "reason": _text(r.get("reason")), "best_on": best_on.get(name, []),
        })
    frontier.sort(key=lambda r: r["released"], reverse=True)  # newest first, then eligible first
    frontier.sort(key=lambda r: r["eligible"] is not True)

    status = _text(stage.get("status"))
    target = _num(stage.get("target_ratio"))
    keep = _int(stage.get("keep"))
    advancing = [t for t in teams if t["outcome"] == "advance"]
    eliminated = [t for t in teams if t["outcome"] == "eliminated"]
    undecided = [t for t in teams if t["outcome"] not in ("advance", "eliminated")]

    return {
        "programme": {"name": _text(programme.get("name")), "name_ko": _text(programme.get("name_ko"))},
        "stage": {
            "id": _text(stage.get("id")),
            "name": _text(stage.get("name") or stage.get("id") or "Stage"),
            "name_ko": _text(stage.get("name_ko")),
            "date": _text(stage.get("date")),
            "window_start": _text(stage.get("window_start")),
            "keep": keep,
            "target_ratio": target,
            "status": status,
            "status_label": _STATUS.get(status, (status or "Unknown", status or "미상")),
            "is_final": status in ("decided", "final"),
        },
        "components": components,
        "bench_max": bench_max,
        "total_max": total_max,
        "gate_names": [{"key": g, "en": gate_label(g)[0], "ko": gate_label(g)[1]} for g in gate_names],
        "teams": teams,
        "advancing": advancing,
        "eliminated": eliminated,
        "undecided": undecided,
        "meets_target": [t for t in teams if t["meets_target"] is True],
        "suites": suites,
        "frontier": frontier,
        "shortfall": data.get("shortfall") if isinstance(data.get("shortfall"), dict) else None,
        "generated_at": _text(data.get("generated_at")),
        "dokja_version": _text(data.get("dokja_version")),
        "font_family": ", ".join(f if f == "sans-serif" else f'"{f}"' for f in FONT_FAMILY),
    }


_VERDICT = {"derived": ("Derived", "파생"), "independent": ("Independent", "독자")}


def _provenance_view(raw: Any) -> list[dict[str, Any]]:
    """Each checked team model's stored verdict, per component, with the evidence the page shows."""
    out = []
    for m in raw if isinstance(raw, list) else []:
        if not isinstance(m, Mapping):
            continue
        comps = []
        for c in m.get("components") or []:
            if not isinstance(c, Mapping):
                continue
            null = c.get("null") if isinstance(c.get("null"), Mapping) else {}
            verdict = _text(c.get("verdict"))
            comps.append({
                "component": _text(c.get("component")), "label_ko": _text(c.get("label_ko")),
                "verdict": verdict, "verdict_label": _VERDICT.get(verdict, (verdict or EMPTY, verdict or EMPTY)),
                "source": _text(c.get("source")), "closest": _text(c.get("closest")),
                "value": _num(c.get("value")), "raw_cosine": _num(c.get("raw_cosine")),
                "threshold": _num(c.get("threshold")), "statistic": _text(c.get("statistic")),
                "tensors": _text(c.get("tensors")), "note": _text(c.get("note")),
                "p_value": _num(c.get("p_value")),
                "null": {k: _num(null.get(k)) for k in ("mean", "sd", "max")} | {"n": _int(null.get("n"))},
            })
        passed = m.get("passed")
        out.append({
            "team": _text(m.get("team")), "team_name": _text(m.get("team_name") or m.get("team")),
            "model": _text(m.get("model")), "summary": _text(m.get("summary")),
            "passed": passed if isinstance(passed, bool) else None,
            "automatic": m.get("automatic") if isinstance(m.get("automatic"), bool) else None,
            "components": comps,
            "notes": [{"note": _text(n.get("note")), "reviewer": _text(n.get("reviewer")),
                       "passed": n.get("passed") if isinstance(n.get("passed"), bool) else None}
                      for n in (m.get("notes") or []) if isinstance(n, Mapping)],
        })
    return out


def _panel_view(panel: Any, teams: list[dict]) -> dict[str, Any] | None:
    """The expert panel's agreement per criterion and each team's raw (and severity-corrected) points."""
    if not isinstance(panel, Mapping):
        return None
    names = {t["id"]: t["name"] for t in teams}
    rows = [{"team": names.get(t["team"], t["team"]), "points": t["points"], "raw": t["raw_points"],
             "corrected": t.get("corrected_points")} for t in panel.get("teams") or []]
    rows.sort(key=lambda r: -r["points"])
    return {"severity": bool(panel.get("severity")), "teams": rows,
            "agreement": [dict(a) for a in panel.get("agreement") or []],
            "tentative": any(a.get("tentative") for a in panel.get("agreement") or [])}


def render_stage_report(data: Mapping[str, Any], office: "OfficeView | None" = None,
                        cost: "tuple[TeamCost, ...] | None" = None, identity: "Deanon | None" = None) -> str:
    """Render one stage's decision dict as a complete, self-contained HTML document; `office` adds what the
    office did after the decision (grievances, repechage, resources), `cost` what the evaluation cost,
    `identity` how well the arena's answers give their model away."""
    from .cost import cost_context
    from .office import office_context

    view = _view(data)
    view["office"] = office_context(office)
    view["cost"] = cost_context(cost)
    view["identity"] = identity
    view["provenance"] = _provenance_view(data.get("provenance"))
    view["arena"] = data.get("arena") if isinstance(data.get("arena"), Mapping) else None
    view["panel"] = _panel_view(data.get("panel"), view["teams"])
    view["odds"] = odds_view(data.get("robustness"), view["teams"], data.get("verdicts"))
    view["user_source"] = _text(data.get("user_source"))
    view["signing_key"] = _text(data.get("signing_key"))
    chart_rows = [{"label": f"{m['model'] or m['team_name']} · {c['component']}", "value": c["value"], "threshold": c["threshold"],
                   "null": c["null"], "derived": c["verdict"] == "derived"}
                  for m in view["provenance"] for c in m["components"]]
    svg = {
        "provenance": charts.provenance_chart(chart_rows),
        "points": charts.points_chart(view["teams"], data.get("scheme") or {}, keep=view["stage"]["keep"]),
        "ratios": charts.ratio_chart(view["teams"], view["suites"], target=view["stage"]["target_ratio"]),
        "odds": odds_chart(view["odds"]["teams"]) if view["odds"] else "",
        "frontier": charts.frontier_timeline(
            view["frontier"], view["stage"]["window_start"], view["stage"]["date"]
        ),
    }
    # Our own SVG (matplotlib escapes every label it writes), so safe to inline as-is.
    view["charts"] = {k: Markup(v) for k, v in svg.items()}
    return _env().get_template("stage.html.j2").render(**view)


def write_stage_report(data: Mapping[str, Any], path: str | os.PathLike[str],
                       office: "OfficeView | None" = None, cost: "tuple[TeamCost, ...] | None" = None,
                       identity: "Deanon | None" = None) -> Path:
    """Render and write the report as UTF-8, creating parent folders; returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_stage_report(data, office, cost, identity), encoding="utf-8")
    return out
