"""What the report shows of the office's steps after a decision: the grievance window and its timeline, the
repechage, and the resources ledger. Read from the store (reads only) into one record the template renders."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..grievance import GROUNDS, GrievanceError, GrievanceView, Window, timeline, window
from ..grievance.window import at_kst
from ..repechage import CallView, show
from ..repechage.tables import RepechageCall
from ..resources import ResourcesSummary, ledger, ledger_chart, summary
from ..resources.records import Chart
from ..store import schema as db


@dataclass(frozen=True)
class OfficeView:
    """The office's steps after a stage decision, as far as they have gone at `on`."""

    on: dt.datetime
    window: Window | None  # none: the decision is not published yet
    timeline: tuple[GrievanceView, ...]
    repechage: CallView | None
    resources: ResourcesSummary | None
    chart: Chart | None


def office_view(session: Session, stage: str, now: dt.datetime) -> OfficeView:
    """Where the office's steps stand at `now` (an aware datetime)."""
    from ..programme import Programme
    from ..registry import programme_row, stage_row

    srow = stage_row(session, programme_row(session), stage)
    try:
        state, events = window(session, stage, now), tuple(timeline(session, stage))
    except GrievanceError:
        state, events = None, ()
    call = session.scalar(select(RepechageCall.id).where(RepechageCall.stage_id == srow.id)
                          .order_by(RepechageCall.id.desc()))
    entries = ledger(session)
    spec = Programme.model_validate(programme_row(session).config)
    names = {t.key: t.name for t in session.scalars(select(db.Team))}  # teams admitted later included
    return OfficeView(on=now, window=state, timeline=events, repechage=show(session, call) if call else None,
                      resources=summary(session, now.date()) if entries else None,
                      chart=ledger_chart(entries, spec.resources.gpu_types, names) if entries else None)


def _when(moment: dt.datetime | None) -> str:
    """A moment as the programme counts time: Korea's."""
    return at_kst(moment) if moment else ""


def office_context(office: OfficeView | None) -> dict[str, Any] | None:
    """The template's view of the office's steps: plain strings and numbers."""
    if office is None:
        return None
    w = office.window
    grievances = [{"team": g.team_name or g.team, "team_ko": g.team_name_ko, "kind": GROUNDS.get(g.grounds_kind,
                   (g.grounds_kind, g.grounds_kind)), "state": g.state.replace("_", " "), "filed": _when(g.filed_at),
                   "rulings": [{"action": r.action.replace("_", " "), "reason": r.reason, "at": _when(r.at)}
                               for r in g.rulings]} for g in office.timeline]
    return {
        "window": None if w is None else {
            "published": _when(w.published_at), "deadline": w.deadline_text, "closed_early": w.closed_early,
            "waived": list(w.waived), "final": w.final, "final_at": _when(w.final_at), "why": w.why_not_final},
        "grievances": grievances,
        "repechage": _repechage(office.repechage),
        "resources": _resources(office.resources),
        "chart": None if office.chart is None else {
            "src": "data:image/png;base64," + base64.b64encode(office.chart.png).decode(),
            "en": office.chart.caption_en, "ko": office.chart.caption_ko},
    }


def _repechage(call: CallView | None) -> dict[str, Any] | None:
    if call is None:
        return None
    out = call.outcome
    return {"opens": call.opens.isoformat(), "closes": call.closes.isoformat(), "requirements": call.requirements,
            "panel": len(call.panel), "admitted": call.admitted,
            "applicants": [{"key": a.key, "name": a.name, "name_ko": a.name_ko, "model": a.model,
                            "votes": out.counts.get(a.key, 0) if out else None,
                            "selected": out is not None and out.selected == a.key} for a in call.applicants],
            "nobody": out.nobody if out else None, "needed": out.needed if out else None,
            "reason": out.reason if out else ""}


def _resources(held: ResourcesSummary | None) -> dict[str, Any] | None:
    if held is None:
        return None
    rows = [{"team": held.names.get(h.holder, (h.holder, ""))[0], "team_ko": held.names.get(h.holder, ("", ""))[1],
             "gpus": ", ".join(f"{n:,} {g}" for g, n in h.gpus.items()) or "—", "h100e": h.h100e,
             "data": h.joint_data + h.own_data, "talent": h.talent} for h in held.teams]
    t = held.totals
    return {"on": held.on.isoformat(), "teams": rows, "pool": ", ".join(f"{n:,} {g}" for g, n in held.pool.gpus.items())
            or "—", "pool_h100e": held.pool.h100e, "issued": t.issued_h100e, "budget": t.budget_h100e}
