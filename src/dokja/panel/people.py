"""Reviewers and their conflicts in the store: register, declare, check (the pure check over the stored
records, each pair logged), dismiss. Names stay here; the log and the public see pseudonyms."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.log import append
from ..programme import Programme
from ..registry import programme_row, stage_row
from ..store import schema as db
from . import tables as t
from .conflicts import check_pair
from .errors import PanelError
from .records import Affiliation, ConflictCheck, Declared, ReviewerRecord, TeamOrganisations
from .reviewers import ReviewerEntry, read_reviewers


def stage_of(session: Session, stage_key: str | None) -> tuple[Programme, db.Stage]:
    """The programme (as validated) and the stage row; the first stage when none is named."""
    prow = programme_row(session)
    try:
        return Programme.model_validate(prow.config), stage_row(session, prow, stage_key)
    except ValueError as exc:
        raise PanelError(str(exc)) from None


def stage_teams(session: Session, srow: db.Stage) -> list[db.Team]:
    """The teams the panel reviews at a stage: those that submitted for it."""
    teams = list(session.scalars(select(db.Team).join(db.Submission, db.Submission.team_id == db.Team.id)
                                 .where(db.Submission.stage_id == srow.id).order_by(db.Team.key)))
    if not teams:
        raise PanelError(f"stage {srow.key} has no submissions; the panel reviews the teams that submitted")
    return teams


def reviewer_row(session: Session, key: str) -> t.Reviewer:
    row = session.scalar(select(t.Reviewer).where(t.Reviewer.key == key))
    if row is None:
        raise PanelError(f"no reviewer {key!r}; import them with `dokja panel reviewers FILE`")
    return row


def team_row(session: Session, key: str) -> db.Team:
    row = session.scalar(select(db.Team).where(db.Team.key == key))
    if row is None:
        raise PanelError(f"no team {key!r}")
    return row


def reviewer_record(row: t.Reviewer) -> ReviewerRecord:
    return ReviewerRecord(key=row.key, pseudonym=row.pseudonym, affiliation=row.affiliation,
                          affiliations=tuple(Affiliation(organisation=a.organisation, start=a.started, end=a.ended)
                                             for a in row.affiliations),
                          declared=tuple(Declared(team=d.team, reason=d.reason) for d in row.declared))


def team_record(row: db.Team) -> TeamOrganisations:
    return TeamOrganisations(team=row.key, organisations=tuple(m.organisation for m in row.members))


def entry_of(row: t.Reviewer) -> ReviewerEntry:
    """A stored reviewer as a reviewers-file entry."""
    return ReviewerEntry(key=row.key, name=row.name, affiliation=row.affiliation, origin=row.origin,
                         affiliations=[{"organisation": a.organisation, "start": a.started, "end": a.ended}
                                       for a in row.affiliations],
                         conflicts=[{"team": d.team, "reason": d.reason} for d in row.declared])


def register_reviewer(session: Session, entry: ReviewerEntry) -> t.Reviewer:
    """Add a reviewer (the next pseudonym, "R1", "R2"…) or update one; logged when anything changed."""
    row = session.scalar(select(t.Reviewer).where(t.Reviewer.key == entry.key))
    before = None if row is None else entry_of(row)
    if row is None:
        n = session.scalar(select(func.count()).select_from(t.Reviewer)) or 0
        row = t.Reviewer(key=entry.key, pseudonym=f"R{n + 1}", name=entry.name, origin=entry.origin)
        session.add(row)
    row.name, row.affiliation, row.origin = entry.name, entry.affiliation, entry.origin
    row.affiliations = [t.Affiliation(organisation=a.organisation, started=a.start, ended=a.end)
                        for a in entry.affiliations]
    kept = {d.team: d for d in row.declared}  # kept rows, not new ones: a team's row stays unique
    row.declared = [kept.get(c.team) or t.Declared(team=c.team) for c in entry.conflicts]
    for d, c in zip(row.declared, entry.conflicts):
        d.reason = c.reason
    session.flush()
    if before is None or entry.model_copy(update={"conflicts": []}) != before.model_copy(update={"conflicts": []}):
        append(session, "reviewer registered", row.pseudonym,
               {"reviewer": row.pseudonym, "origin": row.origin, "new": before is None})
    for c in entry.conflicts:
        if before is None or c not in before.conflicts:
            append(session, "conflict declared", f"{row.pseudonym}/{c.team}",
                   {"reviewer": row.pseudonym, "team": c.team, "reason": c.reason})
    return row


def import_reviewers(session: Session, path: str | Path) -> list[t.Reviewer]:
    """A reviewers file, validated whole first: one bad entry stores none."""
    return [register_reviewer(session, entry) for entry in read_reviewers(path)]


def declare_conflict(session: Session, reviewer_key: str, team_key: str, reason: str) -> t.Reviewer:
    """A conflict declared one at a time (replacing an earlier reason for the same team)."""
    if not reason.strip():
        raise PanelError("a declared conflict needs a reason")
    entry = entry_of(reviewer_row(session, reviewer_key))
    conflicts = [c.model_dump() for c in entry.conflicts if c.team != team_key] + [{"team": team_key,
                                                                                    "reason": reason}]
    return register_reviewer(session, ReviewerEntry.model_validate({**entry.model_dump(), "conflicts": conflicts}))


def dismissed_reasons(session: Session, reviewer: t.Reviewer, team: str) -> frozenset[str]:
    rows = session.scalars(select(t.Dismissal).where(t.Dismissal.reviewer_id == reviewer.id,
                                                     t.Dismissal.team == team))
    return frozenset(r for d in rows for r in d.reasons)


def pair_check(session: Session, spec: Programme, srow: db.Stage, reviewer: t.Reviewer,
               team: db.Team) -> ConflictCheck:
    """The pure check over the stored records, the office's dismissals applied; reads only."""
    return check_pair(reviewer_record(reviewer), team_record(team), srow.date, spec.panel.conflict_years,
                      dismissed_reasons(session, reviewer, team.key))


def check_conflicts(session: Session, stage_key: str | None) -> list[ConflictCheck]:
    """Every reviewer against every team of the stage, each check logged with its reasons."""
    spec, srow = stage_of(session, stage_key)
    reviewers = list(session.scalars(select(t.Reviewer).order_by(t.Reviewer.id)))
    out = []
    for team in stage_teams(session, srow):
        for reviewer in reviewers:
            check = pair_check(session, spec, srow, reviewer, team)
            append(session, "conflict checked", f"{srow.key}/{reviewer.pseudonym}/{team.key}",
                   {"stage": srow.key, **check.model_dump(mode="json")})
            out.append(check)
    return out


def dismiss_conflict(session: Session, stage_key: str | None, reviewer_key: str, team_key: str,
                     reason: str) -> ConflictCheck:
    """Set aside the pair's standing conflict reasons at this stage; only with the office's reason."""
    if not reason.strip():
        raise PanelError("dismissing a conflict needs the office's reason")
    spec, srow = stage_of(session, stage_key)
    reviewer, team = reviewer_row(session, reviewer_key), team_row(session, team_key)
    check = pair_check(session, spec, srow, reviewer, team)
    if not check.conflicted:
        raise PanelError(f"reviewer {reviewer.pseudonym} has no conflict with team {team_key} to dismiss")
    session.add(t.Dismissal(reviewer_id=reviewer.id, team=team_key, reasons=list(check.reasons), reason=reason))
    session.flush()
    append(session, "conflict dismissed", f"{reviewer.pseudonym}/{team_key}",
           {"stage": srow.key, "reviewer": reviewer.pseudonym, "team": team_key, "reasons": list(check.reasons),
            "reason": reason})
    return pair_check(session, spec, srow, reviewer, team)
