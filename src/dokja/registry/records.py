"""Writing the programme's parties into the store, with the call for teams' rules enforced on the way in."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import hashlib

from ..audit.log import append
from ..models import ModelError, checkpoint_sha256, resolve
from ..programme import Programme
from ..programme.schema import Member, Reference, Team
from ..store import schema as db


class RegistryError(ValueError):
    """A registration the programme's rules refuse; one line saying which rule."""


def programme_row(session: Session, name: str | None = None) -> db.Programme:
    query = select(db.Programme).order_by(db.Programme.id.desc())
    if name:
        query = query.where(db.Programme.name == name)
    row = session.scalars(query).first()
    if row is None:
        raise RegistryError("no programme in the store; run `dokja init PROGRAMME.toml` first")
    return row


def stage_row(session: Session, programme: db.Programme, key: str | None = None) -> db.Stage:
    stages = {s.key: s for s in programme.stages}
    if key is None:
        return programme.stages[0]
    if key not in stages:
        raise RegistryError(f"no stage {key!r}; stages are {', '.join(stages)}")
    return stages[key]


def latest_decision(session: Session, stage: db.Stage) -> db.Decision | None:
    """The stage's standing decision: the newest one recorded (a later decision supersedes the earlier)."""
    return session.scalars(select(db.Decision).where(db.Decision.stage_id == stage.id)
                           .order_by(db.Decision.id.desc())).first()


def add_team(session: Session, team: Team) -> db.Team:
    """Register (or update) a team; the call for teams requires students among the members."""
    if not any(m.role == "student" for m in team.members):
        raise RegistryError(f"team {team.id!r} has no student member: the call for teams requires "
                            "undergraduate or graduate students to take part")
    row = session.scalar(select(db.Team).where(db.Team.key == team.id))
    before = None if row is None else _team_record(row)
    if row is None:
        row = db.Team(key=team.id, name=team.name)
        session.add(row)
    row.name, row.name_ko, row.target = team.name, team.name_ko, team.target
    row.members = [db.Member(name=m.name, organisation=m.organisation, role=m.role) for m in team.members]
    session.flush()
    if _team_record(row) != before:
        append(session, "team registered", team.id, _team_record(row))
    return row


def _team_record(row: db.Team) -> dict:
    return {"team": row.key, "name": row.name, "name_ko": row.name_ko, "target": row.target,
            "members": [{"name": m.name, "organisation": m.organisation, "role": m.role} for m in row.members]}


def absolute_location(location: str, base: Path | None = None) -> str:
    """A local path made absolute (relative ones from ``base``, default the working folder), so the store works
    from any folder; endpoints, ``package:`` and ``vllm:`` locations are kept as written."""
    if location.startswith(("http://", "https://", "package:", "vllm:")):
        return location
    path = Path(location).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    return str(path.resolve())


def check_readable(where) -> None:
    """Read a local checkpoint's headers (never its weights): a truncated or lying file is refused here,
    not when the harness loads it."""
    if where.kind == "endpoint":
        return
    from ..provenance.errors import CheckpointError
    from ..provenance.formats import open_checkpoint

    try:
        open_checkpoint(where.path)
    except CheckpointError as exc:
        raise RegistryError(str(exc)) from None


def add_model(session: Session, name: str, location: str, *, chat: bool = False,
              cache: Path = Path(".dokja"), base: Path | None = None) -> db.Model:
    """Register a model after checking it exists and is readable; its checkpoint SHA-256 is recorded."""
    location = absolute_location(location, base)
    try:
        where = resolve(location, cache)
        check_readable(where)
        sha = checkpoint_sha256(where)
    except ModelError as exc:
        raise RegistryError(str(exc)) from None
    row = session.scalar(select(db.Model).where(db.Model.name == name))
    changed = row is None or (row.kind, row.location, row.sha256, row.chat) != (where.kind, location, sha, chat)
    if row is None:
        row = db.Model(name=name, kind=where.kind, location=location)
        session.add(row)
    row.kind, row.location, row.sha256, row.chat = where.kind, location, sha, chat
    session.flush()
    if changed:
        append(session, "model registered", name, {"model": name, "kind": where.kind, "sha256": sha, "chat": chat})
    return row


def verify_checkpoint(model: db.Model, cache: Path = Path(".dokja")) -> None:
    """The checkpoint's bytes still hash to the SHA-256 recorded at registration: weights changed afterwards are
    refused, never evaluated or reported under the old hash."""
    if model.sha256 is None:
        return
    try:
        now = checkpoint_sha256(resolve(model.location, cache))
    except ModelError as exc:
        raise RegistryError(f"model {model.name!r}: {exc}") from None
    if now != model.sha256:
        raise RegistryError(f"model {model.name!r}: checkpoint changed since registration (sha256 "
                            f"{model.sha256[:12]}… recorded, {now[:12]}… now); register it again with "
                            "`dokja model add` if the change is meant")


def _model(session: Session, name: str) -> db.Model:
    row = session.scalar(select(db.Model).where(db.Model.name == name))
    if row is None:
        raise RegistryError(f"no model named {name!r}; add it with `dokja model add`")
    return row


def submit(session: Session, team_key: str, stage: db.Stage, model_name: str, *,
           replace: bool = False) -> db.Submission:
    """A team's model for a stage; replacing a different one needs ``replace`` (the office saying so)."""
    team = session.scalar(select(db.Team).where(db.Team.key == team_key))
    if team is None:
        raise RegistryError(f"no team {team_key!r}; add it with `dokja team add`")
    model = _model(session, model_name)
    row = session.scalar(select(db.Submission).where(db.Submission.team_id == team.id,
                                                     db.Submission.stage_id == stage.id))
    if row is not None and row.model_id != model.id and not replace:
        raise RegistryError(f"team {team_key!r} already submitted {row.model.name!r} for stage {stage.key!r}; "
                            "pass --replace to replace it")
    if row is None:
        row = db.Submission(team_id=team.id, stage_id=stage.id, model_id=model.id)
        session.add(row)
    changed = row.model_id != model.id or row.id is None
    row.model_id = model.id
    session.flush()
    if changed:
        append(session, "model submitted", f"{team_key}/{stage.key}",
               {"team": team_key, "stage": stage.key, "submission": model_name, "sha256": model.sha256})
    return row


def add_reference(session: Session, programme: db.Programme, ref: Reference) -> db.Reference:
    row = session.scalar(select(db.Reference).where(db.Reference.programme_id == programme.id,
                                                    db.Reference.name == ref.name))
    if row is None:
        row = db.Reference(programme_id=programme.id, name=ref.name, vendor=ref.vendor, released=ref.released)
        session.add(row)
    row.vendor, row.released, row.scores, row.source = ref.vendor, ref.released, dict(ref.scores), ref.source
    row.model_id = _model(session, ref.model).id if ref.model else None
    session.flush()
    return row


def import_programme(session: Session, programme: Programme, source: str = "", *,
                     cache: Path = Path(".dokja"), base: Path | None = None) -> db.Programme:
    """Record a programme file: stages, then its teams, models, submissions to the first stage, references.

    Relative model paths are taken from ``base`` (the programme file's folder) and stored absolute."""
    row = session.scalar(select(db.Programme).where(db.Programme.name == programme.name))
    if row is None:
        row = db.Programme(name=programme.name, config={})
        session.add(row)
    config = programme.model_dump(mode="json")
    changed = row.config != config or row.source != source
    row.name_ko, row.config, row.source = programme.name_ko, config, source
    session.flush()
    if changed:
        append(session, "programme imported", programme.name,
               {"programme": programme.name, "sha256": hashlib.sha256(source.encode()).hexdigest()})
    existing = {s.key: s for s in row.stages}
    for stage in programme.stages:
        srow = existing.get(stage.id) or db.Stage(programme_id=row.id, key=stage.id)
        srow.name, srow.name_ko, srow.date, srow.keep = stage.name, stage.name_ko, stage.date, stage.keep
        session.add(srow)
    session.flush()
    session.refresh(row)
    for team in programme.teams:
        add_team(session, team)
    for model in programme.models:
        add_model(session, model.name, model.location, chat=model.chat, cache=cache, base=base)
    first = stage_row(session, row)
    for model in programme.models:
        if model.team:
            submit(session, model.team, first, model.name)
    for ref in programme.references:
        add_reference(session, row, ref)
    return row


def member(text: str) -> Member:
    """Parse 'Name:role[:organisation]' as the CLI takes members."""
    parts = text.split(":")
    if len(parts) < 2:
        raise RegistryError(f"member {text!r} should be NAME:ROLE[:ORGANISATION]")
    try:
        return Member(name=parts[0], role=parts[1], organisation=":".join(parts[2:]))
    except ValueError:
        raise RegistryError(f"member {text!r}: role must be lead, industry, university, student, "
                            "researcher or other") from None
