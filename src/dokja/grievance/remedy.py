"""An upheld grievance's remedy: re-run the affected part, decide the stage again, link the new decision.

The decision changes only here, in one logged step. What the grievance did not touch carries over unchanged:
the office's expert points and findings, the counted votes (unless the remedy is a recount) and every other
run. A suite re-run sets the old run aside (its key changes, its results stay in the store as evidence) so
the harness makes a fresh run under the stage's settings, which is the one the new decision takes.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ..audit.log import append
from ..programme import Programme
from ..registry import latest_decision
from ..stage import OfficeFiles, StageInputs, decide, gather_inputs
from ..stage.record import keep_decision
from ..store import schema as db
from . import tables as tbl
from .errors import GrievanceError
from .states import UPHELD
from .window import aware

REMEDIES = {"recount": "the arena votes recounted", "suite": "one suite re-run for one team's model"}


@dataclass(frozen=True)
class Plan:
    """What a remedy will do, checked before anything runs."""

    grievance: int
    stage: str
    team: str
    decision: int
    kind: str
    suite: str | None = None
    old_run: int | None = None


def _check(session: Session, grievance_id: int, kind: str, suite: str | None, votes: Path | None) -> Plan:
    if kind not in REMEDIES:
        raise GrievanceError(f"unknown remedy {kind!r}; one of {', '.join(REMEDIES)}")
    row = session.get(tbl.Grievance, grievance_id)
    if row is None:
        raise GrievanceError(f"no grievance {grievance_id}")
    if row.state not in UPHELD:
        raise GrievanceError(f"grievance {grievance_id} is {row.state.replace('_', ' ')}: only an upheld grievance "
                             "is remedied")
    if row.remedy_decision_id is not None:
        raise GrievanceError(f"grievance {grievance_id} was already remedied by decision {row.remedy_decision_id}")
    stage = session.get(db.Stage, row.publication.stage_id)
    latest = latest_decision(session, stage).id
    if latest != row.publication.decision_id:
        raise GrievanceError(f"grievance {grievance_id} is against decision {row.publication.decision_id}, since "
                             f"superseded by decision {latest}")
    team = session.get(db.Team, row.team_id).key
    inputs = StageInputs.model_validate(session.get(db.Decision, latest).inputs)
    if kind == "recount":
        _recountable(inputs, latest, votes)
        return Plan(grievance_id, stage.key, team, latest, kind)
    entry = next(t for t in inputs.teams if t.id == team)
    if suite is None:
        raise GrievanceError("a suite re-run needs the suite (--suite)")
    if suite not in entry.runs:
        raise GrievanceError(f"suite {suite!r} is not one of the stage's ({', '.join(entry.runs)}); name it with "
                             "--suite")
    return Plan(grievance_id, stage.key, team, latest, kind, suite, entry.runs[suite].run_id)


def _recountable(inputs: StageInputs, decision: int, votes: Path | None) -> None:
    if inputs.user_source == "csv":
        raise GrievanceError(f"decision {decision} took its user points from a file: there are no arena votes "
                             "to recount")
    if votes is None and inputs.arena is not None and inputs.arena.source != "arena":
        raise GrievanceError(f"decision {decision} counted the votes of {inputs.arena.source}: give the "
                             "recounted export with --votes")


def _set_aside(session: Session, plan: Plan) -> None:
    """Re-key the old run so a fresh one can take the stage's key; a second call for the same grievance (a
    re-run that stopped half-way) finds it already set aside."""
    run = session.get(db.Run, plan.old_run)
    if run.status == "superseded" and run.config.get("set_aside", {}).get("grievance") == plan.grievance:
        return
    run.config = {**run.config, "set_aside": {"grievance": plan.grievance, "config_hash": run.config_hash}}
    run.config_hash = hashlib.sha256(f"{run.config_hash}:grievance {plan.grievance}".encode()).hexdigest()
    run.status = "superseded"


def _rerun(sessions: sessionmaker[Session], plan: Plan, cache: Path) -> None:
    from ..harness.campaign import evaluate_models
    from ..registry import programme_row

    with sessions.begin() as session:
        _set_aside(session, plan)
        spec = Programme.model_validate(programme_row(session).config)
        model = session.get(db.Run, plan.old_run).model
    evaluate_models(sessions, [model], [plan.suite], spec, cache_dir=cache)


def carried_files(inputs: StageInputs, folder: Path, *, recount: bool, votes: Path | None) -> OfficeFiles:
    """The office's hand-made inputs of the earlier decision, written back as the files it was made from (expert
    points that came from the closed panel are left to be read from it again); the votes it counted too,
    unless they are to be recounted (the store's, or the export given)."""
    from ..arena.export import write_votes

    def write(name: str, header: list[str], rows: list[list]) -> Path:
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([header, *rows])
        return folder / name

    by_hand = all(t.expert is not None for t in inputs.teams)  # otherwise the closed panel's scores, read again
    expert = (write("expert.csv", ["team", "expert"], [[t.id, repr(t.expert)] for t in inputs.teams])
              if by_hand else None)
    user = (write("user.csv", ["team", "user"], [[t.id, repr(t.user)] for t in inputs.teams])
            if inputs.user_source == "csv" else None)
    ruled = [t for t in inputs.teams if t.evidence.ruling is not None]
    findings = (write("findings.csv", ["team", "passed", "note"], [[t.id, "yes" if t.evidence.ruling.passed
                                                                   else "no", t.evidence.ruling.note]
                                                                  for t in ruled]) if ruled else None)
    counted = None
    if recount:
        counted = votes
    elif inputs.arena is not None:
        name = inputs.arena.source if inputs.arena.source.endswith((".csv", ".jsonl")) else "votes.jsonl"
        write_votes(inputs.arena.votes, folder / name)
        counted = folder / name
    return OfficeFiles(expert=expert, user=user, findings=findings, votes=counted)


def remedy(sessions: sessionmaker[Session], grievance_id: int, kind: str, *, now: dt.datetime,
           suite: str | None = None, votes: Path | None = None, cache: Path = Path(".dokja"),
           version: str = "") -> int:
    """Re-run what an upheld grievance found defective and record the stage's new decision, superseding the
    old and linked to the grievance ("grievance rerun" in the log); returns the new decision's id."""
    aware(now)
    with sessions.begin() as session:
        plan = _check(session, grievance_id, kind, suite, votes)
    if plan.kind == "suite":
        _rerun(sessions, plan, cache)
    with tempfile.TemporaryDirectory() as folder:
        with sessions.begin() as session:
            old = StageInputs.model_validate(session.get(db.Decision, plan.decision).inputs)
        files = carried_files(old, Path(folder), recount=plan.kind == "recount", votes=votes)
        if files.user is None and files.votes is None:
            from ..arena.service import refresh_flags, vote_rows

            with sessions.begin() as session:  # a recount of the store's votes, under today's honesty flags
                refresh_flags(session, vote_rows(session))
        with sessions.begin() as session:
            return _decide(session, plan, files, now, cache, version)


def _decide(session: Session, plan: Plan, files: OfficeFiles, now: dt.datetime, cache: Path, version: str) -> int:
    from ..registry import programme_row, stage_row

    row = session.get(tbl.Grievance, plan.grievance)
    if row.remedy_decision_id is not None:
        raise GrievanceError(f"grievance {plan.grievance} was already remedied by decision {row.remedy_decision_id}")
    prow = programme_row(session)
    srow = stage_row(session, prow, plan.stage)
    what = f"{plan.suite} re-run for team {plan.team}" if plan.kind == "suite" else REMEDIES[plan.kind]
    reason = f"grievance {plan.grievance} {row.state.replace('_', ' ')}: {what}"
    inputs = gather_inputs(session, prow, srow, files, reason=reason, version=version, cache=cache,
                           decided_at=now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    decision = decide(inputs)
    new = keep_decision(session, srow, inputs, decision)
    row.remedy_decision_id = new.id
    new_run = None
    if plan.kind == "suite":
        new_run = next(t for t in inputs.teams if t.id == plan.team).runs[plan.suite].run_id
    append(session, "grievance rerun", f"grievance {plan.grievance}", {
        "grievance": plan.grievance, "stage": plan.stage, "team": plan.team, "kind": plan.kind,
        "suite": plan.suite, "old_run": plan.old_run, "new_run": new_run, "supersedes": plan.decision,
        "decision": new.id, "sha256": new.sha256, "reason": reason, "at": now.isoformat()})
    return new.id
