"""The ledger in the store: open it from the programme file, apply a stage decision, read it back.

Writers append entries, each with an "allocation" audit entry, in the caller's transaction; readers never write.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.log import append, json_safe
from ..programme import Programme
from ..registry import programme_row, stage_row
from ..store import schema as db
from .ledger import after_decision, holdings, initial_entries, totals
from .records import POOL, Entry, Outcomes, ResourcesError, ResourcesSummary
from .tables import LedgerEntry


def ledger(session: Session) -> list[Entry]:
    """Every entry, in the order entered."""
    return [_entry(r) for r in session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))]


def open_ledger(session: Session) -> list[Entry]:
    """Record the programme file's initial allocations, once; returns what was added (nothing the second time)."""
    if session.scalar(select(func.count()).select_from(LedgerEntry)):
        return []
    return _record(session, initial_entries(_programme(session)))


def allocate(session: Session, stage_key: str | None, decision_id: int | None = None, admitted: Iterable[str] = (),
             decided_on: dt.date | None = None) -> list[Entry]:
    """Apply a stage decision (default: the stage's latest) and the teams the repechage admitted at that stage;
    applying it again adds nothing. Changes start `return_days` after the decision's day (or `decided_on`)."""
    spec = _programme(session)
    srow = stage_row(session, programme_row(session), stage_key)
    row = _decision(session, srow, decision_id)
    outcomes = Outcomes.of_decision(row.data, row.id, tuple(dict.fromkeys(admitted)))
    both = sorted(t for t in outcomes.admitted if outcomes.teams.get(t) == "advance")
    if both:
        raise ResourcesError(f"{', '.join(both)} advanced at stage {srow.key}; only an eliminated or new team can "
                             "be admitted")
    open_ledger(session)
    entries = ledger(session)
    other = sorted({e.decision for e in entries if e.stage == srow.key and e.decision not in (None, row.id)})
    if other:
        raise ResourcesError(f"stage {srow.key}'s resources already follow decision {other[0]}; the ledger is "
                             f"append-only, so decision {row.id} cannot be applied on top of it")
    day = decided_on or dt.date.fromisoformat(row.data["generated_at"][:10])
    return _record(session, after_decision(entries, outcomes, spec.resources, day))


def summary(session: Session, on: dt.date) -> ResourcesSummary:
    """The ledger on a day: each team's holdings, the pool, and the totals against the budget."""
    spec = _programme(session)
    entries = ledger(session)
    held = holdings(entries, on, spec.resources.gpu_types)
    names = {t.id: (t.name, t.name_ko) for t in spec.teams}
    names |= {t.key: (t.name, t.name_ko) for t in session.scalars(select(db.Team))}
    return ResourcesSummary(on=on, teams=tuple(h for k, h in held.items() if k != POOL), pool=held[POOL],
                            totals=totals(entries, spec.resources, on), names=names, entries=len(entries),
                            decisions=tuple(sorted({e.decision for e in entries if e.decision is not None})))


def _programme(session: Session) -> Programme:
    return Programme.model_validate(programme_row(session).config)


def _decision(session: Session, srow: db.Stage, decision_id: int | None) -> db.Decision:
    query = select(db.Decision).where(db.Decision.stage_id == srow.id)
    if decision_id is not None:
        query = query.where(db.Decision.id == decision_id)
    row = session.scalars(query.order_by(db.Decision.id.desc())).first()
    if row is None:
        which = f"no decision {decision_id}" if decision_id is not None else "no decision yet"
        raise ResourcesError(f"stage {srow.key!r} has {which}; run `dokja stage decide` first")
    later = session.scalar(select(db.Decision.id).where(db.Decision.supersedes_id == row.id))
    if later is not None:
        raise ResourcesError(f"decision {row.id} is superseded by decision {later}; apply that one")
    return row


def _record(session: Session, entries: Sequence[Entry]) -> list[Entry]:
    for e in entries:
        row = LedgerEntry(holder=e.holder, kind=e.kind, resource=e.resource, amount=e.amount, unit=e.unit,
                          effective=e.effective, reason=e.reason, step=e.step, stage=e.stage,
                          decision_id=e.decision)
        session.add(row)
        session.flush()
        append(session, "allocation", e.holder, json_safe({
            "entry": row.id, "holder": e.holder, "kind": e.kind, "resource": e.resource, "amount": e.amount,
            "unit": e.unit, "effective": e.effective.isoformat(), "step": e.step, "stage": e.stage,
            "decision": e.decision, "reason": e.reason}))
    return list(entries)


def _entry(row: LedgerEntry) -> Entry:
    return Entry(holder=row.holder, kind=row.kind, resource=row.resource, amount=row.amount,
                 effective=row.effective, reason=row.reason, step=row.step, stage=row.stage,
                 decision=row.decision_id)
