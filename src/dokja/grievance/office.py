"""The office's grievance steps in the store: publish, file, waive, rule, the window, finalise.

Each write is in the caller's transaction with its audit entry; every time comes from the caller's clock
(`now`, an aware datetime), never from inside."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.log import append, json_safe
from ..programme import Programme
from ..registry import latest_decision
from ..store import schema as db
from . import tables as tbl
from .errors import GrievanceError
from .records import EvidenceFile, GrievanceView, Publication, Ruling, Window
from .states import ADMISSIBLE_GROUNDS, GROUNDS, UPHELD, next_state
from .window import at_kst, aware, deadline, from_store, in_time, kst_text, to_store


def _stage(session: Session, stage_key: str | None) -> tuple[Programme, db.Stage]:
    from ..registry import programme_row, stage_row

    prow = programme_row(session)
    return Programme.model_validate(prow.config), stage_row(session, prow, stage_key)


def _publication(session: Session, srow: db.Stage) -> tbl.Publication:
    """The stage's latest decision, which must be published: grievances are filed against what was published."""
    latest = latest_decision(session, srow)
    if latest is None:
        raise GrievanceError(f"stage {srow.key!r} has no decision yet; run `dokja stage decide` first")
    pub = session.scalar(select(tbl.Publication).where(tbl.Publication.decision_id == latest.id))
    if pub is None:
        raise GrievanceError(f"decision {latest.id} of stage {srow.key!r} is not published; the grievance window "
                             "opens when the office publishes it (`dokja grievance publish`)")
    return pub


def _record(pub: tbl.Publication, srow: db.Stage) -> Publication:
    closes = from_store(pub.deadline)
    return Publication(stage=srow.key, decision=pub.decision_id, published_at=from_store(pub.published_at),
                       deadline=closes, deadline_text=kst_text(closes))


def publish(session: Session, stage_key: str | None, now: dt.datetime) -> Publication:
    """Publish the stage's latest decision at `now`: its grievance window opens then."""
    spec, srow = _stage(session, stage_key)
    latest = latest_decision(session, srow)
    if latest is None:
        raise GrievanceError(f"stage {srow.key!r} has no decision to publish; run `dokja stage decide` first")
    known = session.scalar(select(tbl.Publication).where(tbl.Publication.decision_id == latest.id))
    if known is not None:
        raise GrievanceError(f"decision {latest.id} of stage {srow.key!r} was already published at "
                             f"{at_kst(from_store(known.published_at))}")
    closes = deadline(now, spec.stage(srow.key).grievance_days)
    pub = tbl.Publication(decision_id=latest.id, stage_id=srow.id, published_at=to_store(now),
                          deadline=to_store(closes))
    session.add(pub)
    session.flush()
    append(session, "decision published", srow.key, {"stage": srow.key, "decision": latest.id,
                                                     "sha256": latest.sha256, "published_at": now.isoformat(),
                                                     "deadline": closes.isoformat()})
    return _record(pub, srow)


def _eliminated(session: Session, pub: tbl.Publication) -> tuple[str, ...]:
    data = session.get(db.Decision, pub.decision_id).data
    return tuple(t["id"] for t in data["teams"] if t["outcome"] == "eliminated")


def _waivers(session: Session, pub: tbl.Publication) -> dict[str, dt.datetime]:
    rows = session.execute(select(db.Team.key, tbl.Waiver.waived_at).join(db.Team, db.Team.id == tbl.Waiver.team_id)
                           .where(tbl.Waiver.publication_id == pub.id)).all()
    return {key: from_store(at) for key, at in rows}


def _closed_early(spec: Programme, eliminated, waived: dict) -> dt.datetime | None:
    """When every eliminated team has waived (and the programme closes early then), the last waiver's time."""
    if spec.grievances.early_close and eliminated and set(eliminated) <= set(waived):
        return max(waived[k] for k in eliminated)
    return None


def _eliminated_team(session: Session, srow: db.Stage, team_key: str, now: dt.datetime):
    """The publication a team may act on at `now`: it must be eliminated, the window open, its right not waived."""
    aware(now)
    pub = _publication(session, srow)
    if team_key not in _eliminated(session, pub):
        raise GrievanceError(f"team {team_key!r} was not eliminated by decision {pub.decision_id} of stage "
                             f"{srow.key!r}: only eliminated teams may file a grievance")
    closes = from_store(pub.deadline)
    if not in_time(now, closes):
        raise GrievanceError(f"the grievance window of {srow.key} closed at {kst_text(closes)}")
    waived = _waivers(session, pub)  # the window closes early only once every team has waived, so this covers it
    if team_key in waived:
        raise GrievanceError(f"team {team_key!r} waived its right to file at {at_kst(waived[team_key])}")
    return pub, session.scalar(select(db.Team).where(db.Team.key == team_key))


def _evidence(spec: Programme, files: list[tuple[str, bytes]]) -> list[tbl.GrievanceFile]:
    rule = spec.grievances
    if len(files) > rule.max_files:
        raise GrievanceError(f"{len(files)} evidence files; a grievance may carry at most {rule.max_files}")
    out = []
    for name, content in files:
        base = PurePath(name.replace("\\", "/")).name.strip()
        if not base:
            raise GrievanceError("an evidence file needs a name")
        if len(content) > rule.max_file_bytes:
            raise GrievanceError(f"evidence file {base!r} is {len(content):,} bytes; the limit is "
                                 f"{rule.max_file_bytes:,} bytes")
        out.append(tbl.GrievanceFile(name=base[:255], sha256=hashlib.sha256(content).hexdigest(),
                                     size=len(content), content=content))
    return out


def file_grievance(session: Session, stage_key: str | None, team_key: str, grounds_kind: str, grounds: str,
                   files: list[tuple[str, bytes]], now: dt.datetime) -> int:
    """An eliminated team's grievance, within the window; the log keeps the evidence's hashes, not its bytes."""
    spec, srow = _stage(session, stage_key)
    if grounds_kind not in GROUNDS:
        raise GrievanceError(f"unknown grounds {grounds_kind!r}; one of {', '.join(GROUNDS)}")
    if not grounds.strip():
        raise GrievanceError("a grievance needs its grounds in writing")
    pub, team = _eliminated_team(session, srow, team_key, now)
    evidence = _evidence(spec, files)
    row = tbl.Grievance(publication_id=pub.id, team_id=team.id, grounds_kind=grounds_kind, grounds=grounds.strip(),
                        state="filed", filed_at=to_store(now), files=evidence)
    session.add(row)
    session.flush()
    append(session, "grievance filed", f"{srow.key}/{team_key}", {
        "grievance": row.id, "stage": srow.key, "team": team_key, "decision": pub.decision_id,
        "grounds_kind": grounds_kind, "grounds_sha256": hashlib.sha256(row.grounds.encode()).hexdigest(),
        "filed_at": now.isoformat(), "files": [{"name": f.name, "sha256": f.sha256, "size": f.size}
                                              for f in evidence]})
    return row.id


def waive(session: Session, stage_key: str | None, team_key: str, now: dt.datetime) -> Window:
    """An eliminated team declines to file; once every eliminated team has, the window closes early (the
    real first stage's window was shortened so when both eliminated teams declined)."""
    _, srow = _stage(session, stage_key)
    pub, team = _eliminated_team(session, srow, team_key, now)
    session.add(tbl.Waiver(publication_id=pub.id, team_id=team.id, waived_at=to_store(now)))
    session.flush()
    append(session, "grievance waived", f"{srow.key}/{team_key}", {"stage": srow.key, "team": team_key,
                                                                   "decision": pub.decision_id,
                                                                   "waived_at": now.isoformat()})
    return window(session, stage_key, now)


def rule(session: Session, grievance_id: int, action: str, reason: str, now: dt.datetime) -> GrievanceView:
    """The office moves a grievance on by one allowed step, always with a written reason."""
    aware(now)
    if not reason.strip():
        raise GrievanceError("a ruling needs a written reason")
    row = session.get(tbl.Grievance, grievance_id)
    if row is None:
        raise GrievanceError(f"no grievance {grievance_id}")
    state = next_state(row.state, action)
    if action == "admit" and row.grounds_kind not in ADMISSIBLE_GROUNDS:
        raise GrievanceError(f"grievance {grievance_id} is on {GROUNDS[row.grounds_kind][0].lower()}: only a defect "
                             "in the evaluation process is admissible; rule it out of scope (rule_out)")
    if action == "close" and row.state in UPHELD and row.remedy_decision_id is None:
        raise GrievanceError(f"grievance {grievance_id} was {row.state.replace('_', ' ')}: re-run the affected part "
                             "(`dokja grievance remedy`) before closing it")
    before, row.state = row.state, state
    session.add(tbl.GrievanceEvent(grievance_id=row.id, action=action, state=state, reason=reason.strip(),
                                   at=to_store(now)))
    session.flush()
    append(session, "grievance ruled", f"grievance {row.id}", {
        "grievance": row.id, "action": action, "from": before, "to": state, "reason": reason.strip(),
        "at": now.isoformat()})
    return _view(session, row, public=False)


def _view(session: Session, row: tbl.Grievance, *, public: bool) -> GrievanceView:
    team = session.get(db.Team, row.team_id)
    stage = session.get(db.Stage, row.publication.stage_id)
    rulings = tuple(Ruling(action=e.action, state=e.state, reason=e.reason, at=from_store(e.at)) for e in row.events)
    files = () if public else tuple(EvidenceFile(name=f.name, sha256=f.sha256, size=f.size) for f in row.files)
    filed = from_store(row.filed_at)
    return GrievanceView(id=row.id, stage=stage.key, team=team.key, team_name=team.name, team_name_ko=team.name_ko,
                         decision=row.publication.decision_id, grounds_kind=row.grounds_kind,
                         grounds="" if public else row.grounds, state=row.state, filed_at=filed,
                         updated_at=rulings[-1].at if rulings else filed, rulings=rulings, files=files,
                         remedy_decision=row.remedy_decision_id)


def _grievances(session: Session, srow: db.Stage, team_key: str | None = None) -> list[tbl.Grievance]:
    query = (select(tbl.Grievance).join(tbl.Publication, tbl.Publication.id == tbl.Grievance.publication_id)
             .where(tbl.Publication.stage_id == srow.id).order_by(tbl.Grievance.id))
    if team_key is not None:
        query = query.join(db.Team, db.Team.id == tbl.Grievance.team_id).where(db.Team.key == team_key)
    return list(session.scalars(query))


def team_grievances(session: Session, stage_key: str | None, team_key: str) -> list[GrievanceView]:
    """A team's own grievances of a stage, with its grounds and its files' hashes (for the team's page)."""
    _, srow = _stage(session, stage_key)
    return [_view(session, g, public=False) for g in _grievances(session, srow, team_key)]


def timeline(session: Session, stage_key: str | None) -> list[GrievanceView]:
    """Every grievance of a stage as the public may see it: team, state, dates and the office's reasons."""
    _, srow = _stage(session, stage_key)
    return [_view(session, g, public=True) for g in _grievances(session, srow)]


def window(session: Session, stage_key: str | None, now: dt.datetime) -> Window:
    """Where the stage's grievance window stands at `now` (reads only)."""
    aware(now)
    spec, srow = _stage(session, stage_key)
    latest = latest_decision(session, srow)
    pub = session.scalars(select(tbl.Publication).where(tbl.Publication.stage_id == srow.id)
                          .order_by(tbl.Publication.id.desc())).first()
    if pub is None:
        raise GrievanceError(f"stage {srow.key!r} has no published decision; publish it with "
                             "`dokja grievance publish`")
    eliminated, waived = _eliminated(session, pub), _waivers(session, pub)
    early = _closed_early(spec, eliminated, waived)
    closes = from_store(pub.deadline)
    is_open = in_time(now, closes) and early is None
    pending = tuple(_view(session, g, public=True) for g in _grievances(session, srow) if g.state != "closed")
    why = ""
    if latest is not None and latest.id != pub.decision_id:
        why = f"decision {latest.id} is not published yet"
    elif is_open:
        why = f"the grievance window is open until {kst_text(closes)}"
    elif pending:
        why = f"grievance {', '.join(str(g.id) for g in pending)} still open"
    return Window(stage=srow.key, decision=pub.decision_id, published_at=from_store(pub.published_at),
                  deadline=closes, deadline_text=kst_text(closes), open=is_open, closed_early=early is not None,
                  eliminated=eliminated, waived=tuple(k for k in eliminated if k in waived),
                  open_grievances=pending, final=not why, why_not_final=why, final_at=from_store(pub.final_at))


def finalise(session: Session, stage_key: str | None, now: dt.datetime) -> Window:
    """Declare the stage's results final, once: only when the window has closed and no grievance is open."""
    state = window(session, stage_key, now)
    if state.final_at is not None:
        raise GrievanceError(f"the results of stage {state.stage!r} are already final (since "
                             f"{at_kst(state.final_at)})")
    if not state.final:
        raise GrievanceError(f"the results of stage {state.stage!r} cannot be final yet: {state.why_not_final}")
    pub = session.scalar(select(tbl.Publication).where(tbl.Publication.decision_id == state.decision))
    pub.final_at = to_store(now)
    decision = session.get(db.Decision, state.decision)
    append(session, "results final", state.stage, json_safe({
        "stage": state.stage, "decision": state.decision, "sha256": decision.sha256, "final_at": now.isoformat(),
        "grievances": [g.id for g in timeline(session, state.stage)], "waived": list(state.waived)}))
    return window(session, stage_key, now)
