"""The repechage in the store: open a call, take applications, the panel's votes, decide and admit.

Dates of a call are calendar days in Korea (KST); every time comes from the caller's clock (`now`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.log import append, json_safe
from ..programme import Programme
from ..programme.schema import Member
from ..store import schema as db
from . import tables as tbl
from .records import Applicant, ApplicantView, CallView, RepechageError, Tally
from .tally import tally

KST = dt.timezone(dt.timedelta(hours=9), "KST")
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _today(now: dt.datetime) -> dt.date:
    if now.tzinfo is None or now.utcoffset() is None:
        raise RepechageError(f"the time {now.isoformat()} has no time zone; give one (e.g. +09:00)")
    return now.astimezone(KST).date()


def _utc(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(tzinfo=None)


def _spec(session: Session):
    from ..registry import programme_row

    prow = programme_row(session)
    return prow, Programme.model_validate(prow.config)


def _call(session: Session, call_id: int, *, undecided: bool = True) -> tbl.RepechageCall:
    row = session.get(tbl.RepechageCall, call_id)
    if row is None:
        raise RepechageError(f"no repechage call {call_id}")
    if undecided and row.decided_at is not None:
        raise RepechageError(f"repechage call {call_id} was decided on {row.decided_at:%Y-%m-%d}")
    return row


def _shortfall(decision: db.Decision) -> int:
    """How many fewer teams advance than the stage planned to keep (gates removed the others), as the decision
    says."""
    short = decision.data.get("shortfall")
    return short["planned"] - short["kept"] if short else 0


def open_call(session: Session, stage_key: str | None, opens: dt.date, closes: dt.date, requirements: str,
              panel: list[str], seats: int = 1, *, now: dt.datetime) -> int:
    """Open a call for the seat a stage's gates left empty; `panel` are reviewer keys."""
    from ..registry import latest_decision, stage_row

    prow, _ = _spec(session)
    srow = stage_row(session, prow, stage_key)
    decision = latest_decision(session, srow)
    if decision is None:
        raise RepechageError(f"stage {srow.key!r} has no decision yet")
    if _shortfall(decision) < 1:
        raise RepechageError(f"decision {decision.id} of stage {srow.key!r} keeps the {decision.data['stage']['keep']} "
                             "teams it planned: there is no seat for a repechage")
    if seats != 1:
        raise RepechageError("a call fills one seat (each member has one vote); open another call for another")
    members = [p.strip() for p in panel]
    if not members or any(not p for p in members) or len(set(members)) != len(members):
        raise RepechageError("the panel needs one or more distinct reviewer keys")
    if closes < opens:
        raise RepechageError(f"the call closes ({closes}) before it opens ({opens})")
    if not requirements.strip():
        raise RepechageError("a call needs its requirements in writing")
    if session.scalar(select(tbl.RepechageCall.id).where(tbl.RepechageCall.stage_id == srow.id,
                                                        tbl.RepechageCall.decided_at.is_(None))):
        raise RepechageError(f"stage {srow.key!r} already has an undecided repechage call")
    row = tbl.RepechageCall(stage_id=srow.id, decision_id=decision.id, opens=opens, closes=closes,
                            requirements=requirements.strip(), panel=members, seats=seats, opened_at=_utc(now))
    session.add(row)
    session.flush()
    append(session, "repechage opened", srow.key, {"call": row.id, "stage": srow.key, "decision": decision.id,
                                                   "opens": opens.isoformat(), "closes": closes.isoformat(),
                                                   "panel": members, "seats": seats,
                                                   "requirements": row.requirements, "at": now.isoformat()})
    return row.id


def _check_applicant(session: Session, spec: Programme, call: tbl.RepechageCall, applicant: Applicant) -> None:
    if not KEY.match(applicant.key):
        raise RepechageError(f"applicant key {applicant.key!r}: lower-case letters, digits, - and _")
    if not applicant.name.strip() or not applicant.model.strip():
        raise RepechageError(f"applicant {applicant.key!r} needs a name and a model name")
    if not applicant.members:
        raise RepechageError(f"applicant {applicant.key!r} lists no members")
    if spec.repechage.student_member and not any(m.role == "student" for m in applicant.members):
        raise RepechageError(f"applicant {applicant.key!r} has no student member: the call requires "
                             "undergraduate or graduate students to take part")
    team = session.scalar(select(db.Team).where(db.Team.key == applicant.key))
    eliminated = {t["id"] for t in session.get(db.Decision, call.decision_id).data["teams"]
                  if t["outcome"] == "eliminated"}
    if team is not None and team.key not in eliminated:
        raise RepechageError(f"team {applicant.key!r} was not eliminated by decision {call.decision_id}: only "
                             "eliminated teams or new consortia apply")
    if session.scalar(select(tbl.RepechageApplicant.id).where(tbl.RepechageApplicant.call_id == call.id,
                                                             tbl.RepechageApplicant.key == applicant.key)):
        raise RepechageError(f"{applicant.key!r} has already applied to call {call.id}")


def _files(spec: Programme, loss_log: tuple[str, bytes], files) -> list[tbl.RepechageFile]:
    out = []
    for kind, (name, content) in [("loss_log", loss_log), *(("evidence", f) for f in files)]:
        base = PurePath(name.replace("\\", "/")).name.strip()
        if not base or not content:
            raise RepechageError(f"the {kind.replace('_', ' ')} file needs a name and contents")
        if len(content) > spec.repechage.max_file_bytes:
            raise RepechageError(f"file {base!r} is {len(content):,} bytes; the limit is "
                                 f"{spec.repechage.max_file_bytes:,} bytes")
        out.append(tbl.RepechageFile(kind=kind, name=base[:255], sha256=hashlib.sha256(content).hexdigest(),
                                     size=len(content), content=content))
    return out


def apply(session: Session, call_id: int, applicant: Applicant, loss_log: tuple[str, bytes], now: dt.datetime,
          files: list[tuple[str, bytes]] = ()) -> int:
    """An application within the call's dates (KST), with the pre-training loss log and any other evidence."""
    call = _call(session, call_id)
    today = _today(now)
    if not call.opens <= today <= call.closes:
        raise RepechageError(f"repechage call {call_id} takes applications from {call.opens} to {call.closes} "
                             f"(KST), not on {today}")
    _, spec = _spec(session)
    _check_applicant(session, spec, call, applicant)
    stored = _files(spec, loss_log, files)
    row = tbl.RepechageApplicant(call_id=call.id, key=applicant.key, name=applicant.name.strip(),
                                 name_ko=applicant.name_ko, members=[m.model_dump() for m in applicant.members],
                                 model=applicant.model.strip(), benchmarks=json_safe(dict(applicant.benchmarks)),
                                 applied_at=_utc(now), files=stored)
    session.add(row)
    session.flush()
    append(session, "repechage applied", f"call {call.id}/{applicant.key}", {
        "call": call.id, "applicant": applicant.key, "name": row.name, "members": row.members, "model": row.model,
        "benchmarks": row.benchmarks, "files": [{"kind": f.kind, "name": f.name, "sha256": f.sha256, "size": f.size}
                                                for f in stored], "at": now.isoformat()})
    return row.id


def vote(session: Session, call_id: int, reviewer: str, applicant_key: str | None, now: dt.datetime) -> None:
    """A panel member's one vote, for an applicant or (None) for nobody, once applications have closed; a new
    vote replaces the member's earlier one until the call is decided."""
    call = _call(session, call_id)
    if reviewer not in call.panel:
        raise RepechageError(f"{reviewer!r} is not on the panel of call {call_id}")
    if _today(now) <= call.closes:
        raise RepechageError(f"repechage call {call_id} takes applications until {call.closes} (KST); the panel "
                             "votes after")
    applicant = None
    if applicant_key is not None:
        applicant = session.scalar(select(tbl.RepechageApplicant).where(
            tbl.RepechageApplicant.call_id == call.id, tbl.RepechageApplicant.key == applicant_key))
        if applicant is None:
            raise RepechageError(f"no applicant {applicant_key!r} in call {call_id}")
    row = session.scalar(select(tbl.RepechageVote).where(tbl.RepechageVote.call_id == call.id,
                                                        tbl.RepechageVote.reviewer == reviewer))
    replaced = row is not None
    if row is None:
        row = tbl.RepechageVote(call_id=call.id, reviewer=reviewer)
        session.add(row)
    row.applicant_id, row.cast_at = applicant.id if applicant else None, _utc(now)
    session.flush()
    append(session, "repechage vote", f"call {call.id}/{reviewer}", {
        "call": call.id, "reviewer": reviewer, "applicant": applicant_key, "replaces_earlier": replaced,
        "at": now.isoformat()})


def _votes(session: Session, call: tbl.RepechageCall) -> dict[str, str | None]:
    applicant = tbl.RepechageApplicant
    rows = session.execute(select(tbl.RepechageVote.reviewer, applicant.key)
                           .outerjoin(applicant, applicant.id == tbl.RepechageVote.applicant_id)
                           .where(tbl.RepechageVote.call_id == call.id).order_by(tbl.RepechageVote.reviewer)).all()
    return {reviewer: key for reviewer, key in rows}


def decide_call(session: Session, call_id: int, now: dt.datetime) -> Tally:
    """Count the panel's votes and record the outcome; the selected applicant becomes a team of the programme."""
    call = _call(session, call_id)
    if _today(now) <= call.closes:
        raise RepechageError(f"repechage call {call_id} takes applications until {call.closes} (KST)")
    result = tally(list(_votes(session, call).values()), len(call.panel))
    team = None
    if result.selected is not None:
        team = _admit(session, session.scalar(select(tbl.RepechageApplicant).where(
            tbl.RepechageApplicant.call_id == call.id, tbl.RepechageApplicant.key == result.selected)))
    call.outcome, call.decided_at = dataclasses.asdict(result), _utc(now)
    call.admitted_team_id = team.id if team else None
    session.flush()
    append(session, "repechage decided", f"call {call.id}", {"call": call.id, **dataclasses.asdict(result),
                                                             "team": team.key if team else None,
                                                             "at": now.isoformat()})
    return result


def _admit(session: Session, applicant: tbl.RepechageApplicant) -> db.Team:
    """The selected applicant as a team of the store: an eliminated team comes back as it is; a new consortium
    is registered with its members."""
    team = session.scalar(select(db.Team).where(db.Team.key == applicant.key))
    if team is not None:
        return team
    team = db.Team(key=applicant.key, name=applicant.name, name_ko=applicant.name_ko, target=None,
                   members=[db.Member(name=m["name"], organisation=m.get("organisation", ""), role=m["role"])
                            for m in applicant.members])
    session.add(team)
    session.flush()
    append(session, "team registered", team.key, {"team": team.key, "name": team.name, "name_ko": team.name_ko,
                                                  "target": None, "members": applicant.members,
                                                  "repechage_call": applicant.call_id})
    return team


def admitted(session: Session, call_id: int) -> str | None:
    """The key of the team a decided call admitted; None when it selected nobody or is not decided."""
    call = _call(session, call_id, undecided=False)
    return session.get(db.Team, call.admitted_team_id).key if call.admitted_team_id else None


def show(session: Session, call_id: int) -> CallView:
    """A call with its applicants (files as hashes), the votes so far and the outcome (reads only)."""
    call = _call(session, call_id, undecided=False)
    applicants = tuple(ApplicantView(
        key=a.key, name=a.name, name_ko=a.name_ko, members=tuple(Member.model_validate(m) for m in a.members),
        model=a.model, benchmarks=dict(a.benchmarks), applied_at=a.applied_at.replace(tzinfo=dt.UTC),
        files=tuple((f.kind, f.name, f.sha256, f.size) for f in a.files))
        for a in session.scalars(select(tbl.RepechageApplicant).where(tbl.RepechageApplicant.call_id == call.id)
                                 .order_by(tbl.RepechageApplicant.id)))
    outcome = Tally(**call.outcome) if call.outcome else None
    return CallView(id=call.id, stage=session.get(db.Stage, call.stage_id).key, decision=call.decision_id,
                    opens=call.opens, closes=call.closes, requirements=call.requirements, panel=tuple(call.panel),
                    seats=call.seats, applicants=applicants, votes=_votes(session, call), outcome=outcome,
                    admitted=admitted(session, call_id))
