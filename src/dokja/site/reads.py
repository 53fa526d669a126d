"""What the pages read from the store (never writing): stages, the decision a viewer may see, the team.

The public and teams see a stage's latest *published* decision (publication is the grievance package's);
the office sees the latest decision, published or not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts import User
from ..grievance.tables import Publication
from ..programme import Programme
from ..registry import programme_row
from ..store import schema as db
from .results import StageResult, stage_result


@dataclass(frozen=True)
class StageInfo:
    key: str
    name: str
    name_ko: str
    date: dt.date
    keep: int


def programme(session: Session) -> Programme | None:
    from ..registry import RegistryError

    try:
        return Programme.model_validate(programme_row(session).config)
    except RegistryError:
        return None


def stages(session: Session) -> list[StageInfo]:
    rows = session.scalars(select(db.Stage).order_by(db.Stage.date, db.Stage.id))
    return [StageInfo(r.key, r.name, r.name_ko, r.date, r.keep) for r in rows]


def stage_info(session: Session, key: str) -> StageInfo | None:
    return next((s for s in stages(session) if s.key == key), None)


def _stage_id(session: Session, key: str) -> int | None:
    return session.scalar(select(db.Stage.id).where(db.Stage.key == key))


def shown_decision(session: Session, stage_key: str, *, office: bool) -> tuple[db.Decision, dt.datetime | None] | None:
    """The decision this viewer may see and when it was published (None: not yet)."""
    stage_id = _stage_id(session, stage_key)
    if stage_id is None:
        return None
    published = (select(db.Decision, Publication.published_at)
                 .join(Publication, Publication.decision_id == db.Decision.id, isouter=office)
                 .where(db.Decision.stage_id == stage_id).order_by(db.Decision.id.desc()))
    found = session.execute(published).first()
    return (found[0], found[1]) if found else None


def result_for(session: Session, stage_key: str, user: User | None) -> StageResult | None:
    """The stage's result as ``user`` (None: the public) may see it, or None when nothing is published."""
    office = user is not None and user.role == "office"
    shown = shown_decision(session, stage_key, office=office)
    spec = programme(session)
    if shown is None or spec is None:
        return None
    row, published_at = shown
    own = user.team if user is not None and user.role == "team" else None
    return stage_result(row.data, row.id, level=spec.disclosure, published_at=published_at, own_team=own,
                        office=office)


@dataclass(frozen=True)
class TeamInfo:
    key: str
    name: str
    name_ko: str
    organisations: tuple[str, ...]


def team_info(session: Session, key: str) -> TeamInfo | None:
    row = session.scalar(select(db.Team).where(db.Team.key == key))
    if row is None:
        return None
    organisations = tuple(sorted({m.organisation for m in row.members if m.organisation}))
    return TeamInfo(row.key, row.name, row.name_ko, organisations)


def teams(session: Session) -> list[TeamInfo]:
    return [team_info(session, k) for k in session.scalars(select(db.Team.key).order_by(db.Team.key))]
