"""A stage's panel in the store: assign, take scores (blind until close), close, and read it back.

Scores stay blind until the office closes the panel: each one entered is logged as a SHA-256 commitment to
(reviewer pseudonym, team, criterion, score, note, salt) — the log is public in bundles — and the close
reveals every counted score with its salt, so anyone can match each reveal to its earlier commitment and see
that no score was changed after the others were known. Logging only at close would hide when scores were
given and let a late change pass unseen; the commitment does neither.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..audit.log import append, canonical_json, json_safe
from ..programme import Programme
from ..programme.panel import Criterion
from ..store import schema as db
from . import tables as t
from .assign import assign
from .errors import PanelError
from .people import pair_check, reviewer_row, stage_of, stage_teams, team_row
from .records import Conflict, Draw, PanelScores, Refused, Score

COLUMNS = ("reviewer", "team", "criterion", "score", "note")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def commitment(reviewer: str, team: str, criterion: str, score: float, note: str, salt: str) -> str:
    """SHA-256 of the canonical JSON of the score with its salt: what the log holds until close."""
    return hashlib.sha256(canonical_json({"reviewer": reviewer, "team": team, "criterion": criterion,
                                          "score": score, "note": note, "salt": salt})).hexdigest()


def rubric(programme: Programme) -> tuple[Criterion, ...]:
    """The criteria reviewers score on, with their anchors in English and Korean."""
    return programme.panel.rubric(programme.scheme.expert)


def _round(session: Session, srow: db.Stage) -> t.PanelRound | None:
    return session.scalar(select(t.PanelRound).where(t.PanelRound.stage_id == srow.id))


def panel_status(session: Session, stage_key: str | None) -> Literal["unassigned", "open", "closed"]:
    _, srow = stage_of(session, stage_key)
    row = _round(session, srow)
    return "unassigned" if row is None else ("closed" if row.closed_at else "open")


def assign_panel(session: Session, stage_key: str | None) -> tuple[Draw, ...]:
    """Check conflicts, draw k eligible reviewers per team with the published seed, store the draw and each
    pair's probability. Drawing again is allowed until the first score, and gives the same draw."""
    from .people import check_conflicts

    spec, srow = stage_of(session, stage_key)
    row = _round(session, srow)
    if row is not None and (row.closed_at or session.scalar(select(t.Score.id).where(t.Score.stage_id == srow.id))):
        raise PanelError(f"the panel of stage {srow.key} already has scores; its assignment stands")
    checks = check_conflicts(session, srow.key)
    reviewers = {r.pseudonym: r for r in session.scalars(select(t.Reviewer))}
    teams = {team.key: team for team in stage_teams(session, srow)}
    eligible = {key: [c.reviewer for c in checks if c.team == key and not c.conflicted] for key in teams}
    cfg = spec.panel
    draws = assign(list(reviewers), eligible, cfg.reviewers_per_team, cfg.max_probability, cfg.seed, srow.key)
    session.execute(delete(t.Assignment).where(t.Assignment.stage_id == srow.id))
    session.add_all(t.Assignment(stage_id=srow.id, reviewer_id=reviewers[d.reviewer].id, team_id=teams[d.team].id,
                                 probability=d.probability) for d in draws)
    if row is None:
        session.add(t.PanelRound(stage_id=srow.id, seed=cfg.seed))
    else:
        row.seed, row.assigned_at = cfg.seed, utcnow()
    session.flush()
    append(session, "panel assigned", srow.key,
           {"stage": srow.key, "seed": cfg.seed, "reviewers_per_team": cfg.reviewers_per_team,
            "max_probability": cfg.max_probability, "assignments": [d.model_dump() for d in draws]})
    return draws


def _assigned(session: Session, srow: db.Stage, reviewer: t.Reviewer, team: db.Team) -> bool:
    return session.scalar(select(t.Assignment.id).where(
        t.Assignment.stage_id == srow.id, t.Assignment.reviewer_id == reviewer.id,
        t.Assignment.team_id == team.id)) is not None


def assigned_teams(session: Session, stage_key: str | None, reviewer_key: str) -> list[str]:
    """The teams a reviewer scores at a stage (empty before the draw)."""
    _, srow = stage_of(session, stage_key)
    reviewer = reviewer_row(session, reviewer_key)
    return list(session.scalars(select(db.Team.key).join(t.Assignment, t.Assignment.team_id == db.Team.id)
                                .where(t.Assignment.stage_id == srow.id, t.Assignment.reviewer_id == reviewer.id)
                                .order_by(db.Team.key)))


def _number(score) -> float:
    try:
        value = float(score)
    except (TypeError, ValueError):
        raise PanelError(f"score {score!r} is not a number") from None
    if not math.isfinite(value):
        raise PanelError(f"score {score!r} is not a number")
    return value


def _open_round(session: Session, srow: db.Stage) -> t.PanelRound:
    row = _round(session, srow)
    if row is None:
        raise PanelError(f"the panel of stage {srow.key} is not assigned yet; run `dokja panel assign`")
    if row.closed_at:
        raise PanelError(f"the panel of stage {srow.key} is closed")
    return row


def enter_score(session: Session, stage_key: str | None, reviewer_key: str, team_key: str, criterion: str,
                score, note: str = "", via: str = "web") -> t.Score:
    """A reviewer's score of a team on one criterion, refused (PanelError) for a closed panel, an unknown
    criterion, a score off the scale, a conflicted reviewer (even one somehow assigned) or an unassigned
    pair; entered again before close, it replaces the earlier one. Logged as a commitment."""
    spec, srow = stage_of(session, stage_key)
    _open_round(session, srow)
    reviewer, team = reviewer_row(session, reviewer_key), team_row(session, team_key)
    cfg = spec.panel
    ids = [c.id for c in rubric(spec)]
    if criterion not in ids:
        raise PanelError(f"no criterion {criterion!r}; the rubric's are {', '.join(ids)}")
    value = _number(score)
    if not cfg.scale_min <= value <= cfg.scale_max:
        raise PanelError(f"score {value:g} is off the scale {cfg.scale_min}–{cfg.scale_max}")
    check = pair_check(session, spec, srow, reviewer, team)
    if check.conflicted:
        raise PanelError(f"reviewer {reviewer.pseudonym} has a conflict with team {team.key}: {check.reasons[0]}")
    if not _assigned(session, srow, reviewer, team):
        raise PanelError(f"reviewer {reviewer.pseudonym} is not assigned to team {team.key} at stage {srow.key}")
    row = session.scalar(select(t.Score).where(t.Score.stage_id == srow.id, t.Score.reviewer_id == reviewer.id,
                                               t.Score.team_id == team.id, t.Score.criterion == criterion))
    if row is None:
        row = t.Score(stage_id=srow.id, reviewer_id=reviewer.id, team_id=team.id, criterion=criterion)
        session.add(row)
    row.score, row.note, row.via, row.updated_at = value, note, via, utcnow()
    row.salt = secrets.token_hex(16)
    row.commitment = commitment(reviewer.pseudonym, team.key, criterion, value, note, row.salt)
    session.flush()
    append(session, "panel score", f"{srow.key}/{reviewer.pseudonym}/{team.key}",
           {"stage": srow.key, "reviewer": reviewer.pseudonym, "team": team.key, "criterion": criterion,
            "commitment": row.commitment, "via": via})
    return row


@dataclass(frozen=True)
class Imported:
    """What a score file came to: how many rows counted, and each refused row with its line and reason."""

    kept: int
    refused: tuple[Refused, ...]


def import_scores(session: Session, stage_key: str | None, path: str | Path, via: str = "csv") -> Imported:
    """A CSV of scores (reviewer,team,criterion,score,note), each row checked as `enter_score` checks it; a
    refused row is kept aside with its line, the others count."""
    _, srow = stage_of(session, stage_key)
    _open_round(session, srow)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PanelError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise PanelError(f"{path}: no {', '.join(missing)} column; the columns are {','.join(COLUMNS)}")
    kept, refused = 0, []
    for row in reader:
        cells = {c: (row.get(c) or "").strip() for c in COLUMNS}
        try:
            enter_score(session, srow.key, cells["reviewer"], cells["team"], cells["criterion"], cells["score"],
                        cells["note"], via=via)
            kept += 1
        except PanelError as exc:
            refused.append(_refuse(session, srow, reader.line_num, cells, str(exc), via))
    return Imported(kept=kept, refused=tuple(refused))


def _refuse(session: Session, srow: db.Stage, line: int, cells: dict, reason: str, via: str) -> Refused:
    session.add(t.Refusal(stage_id=srow.id, line=line, reviewer=cells["reviewer"], team=cells["team"],
                          criterion=cells["criterion"], score=cells["score"][:64], reason=reason, via=via))
    session.flush()
    return _refused_record(session, line, cells["reviewer"], cells["team"], cells["criterion"], cells["score"],
                           reason)


def _refused_record(session: Session, line, reviewer: str, team: str, criterion: str, score: str,
                    reason: str) -> Refused:
    known = session.scalar(select(t.Reviewer.pseudonym).where(t.Reviewer.key == reviewer))
    return Refused(line=line, reviewer=known or "", team=team, criterion=criterion, score=score, reason=reason)


def own_scores(session: Session, stage_key: str | None, reviewer_key: str) -> dict[tuple[str, str], float]:
    """A reviewer's own scores, (team, criterion) → score: all anyone but the office sees before close."""
    _, srow = stage_of(session, stage_key)
    reviewer = reviewer_row(session, reviewer_key)
    rows = session.execute(select(db.Team.key, t.Score.criterion, t.Score.score)
                           .join(db.Team, db.Team.id == t.Score.team_id)
                           .where(t.Score.stage_id == srow.id, t.Score.reviewer_id == reviewer.id))
    return {(team, criterion): score for team, criterion, score in sorted(rows)}


def _refusals(session: Session, srow: db.Stage) -> tuple[Refused, ...]:
    rows = session.scalars(select(t.Refusal).where(t.Refusal.stage_id == srow.id).order_by(t.Refusal.id))
    return tuple(_refused_record(session, r.line, r.reviewer, r.team, r.criterion, r.score, r.reason) for r in rows)


def _conflicts(session: Session, spec: Programme, srow: db.Stage) -> tuple[Conflict, ...]:
    out = []
    for team in stage_teams(session, srow):
        for reviewer in session.scalars(select(t.Reviewer).order_by(t.Reviewer.id)):
            check = pair_check(session, spec, srow, reviewer, team)
            if check.conflicted or check.dismissed:
                why = session.scalars(select(t.Dismissal.reason).where(
                    t.Dismissal.reviewer_id == reviewer.id, t.Dismissal.team == team.key).order_by(t.Dismissal.id))
                out.append(Conflict(reviewer=reviewer.pseudonym, team=team.key,
                                    reasons=check.reasons if check.conflicted else (), dismissed=check.dismissed,
                                    dismissal="; ".join(why) if check.dismissed else ""))
    return tuple(out)


def _scores(session: Session, spec: Programme, srow: db.Stage) -> PanelScores:
    """The stage's panel as it stands, from the live tables."""
    rows = session.execute(select(t.Reviewer.pseudonym, db.Team.key, t.Score.criterion, t.Score.score)
                           .join(t.Reviewer, t.Reviewer.id == t.Score.reviewer_id)
                           .join(db.Team, db.Team.id == t.Score.team_id).where(t.Score.stage_id == srow.id))
    draws = session.execute(select(t.Reviewer.pseudonym, db.Team.key, t.Assignment.probability)
                            .join(t.Reviewer, t.Reviewer.id == t.Assignment.reviewer_id)
                            .join(db.Team, db.Team.id == t.Assignment.team_id)
                            .where(t.Assignment.stage_id == srow.id))
    return PanelScores(stage=srow.key, rubric=rubric(spec), scale_min=spec.panel.scale_min,
                       scale_max=spec.panel.scale_max, seed=_round(session, srow).seed,
                       scores=tuple(Score(reviewer=r, team=k, criterion=c, score=s) for r, k, c, s in rows),
                       refused=_refusals(session, srow), conflicts=_conflicts(session, spec, srow),
                       assignments=tuple(Draw(reviewer=r, team=k, probability=p) for r, k, p in draws))


def close_panel(session: Session, stage_key: str | None) -> PanelScores:
    """Close the stage's panel once every team has a score on every criterion: scores are revealed in the
    log (with their salts) and the `PanelScores` record is kept whole."""
    spec, srow = stage_of(session, stage_key)
    row = _open_round(session, srow)
    record = _scores(session, spec, srow)
    have = {(s.team, s.criterion) for s in record.scores}
    for team in stage_teams(session, srow):
        for c in record.rubric:
            if (team.key, c.id) not in have:
                raise PanelError(f"team {team.key} has no score on criterion {c.id}; the panel cannot close yet")
    reveals = session.execute(select(t.Reviewer.pseudonym, db.Team.key, t.Score.criterion, t.Score.score,
                                     t.Score.note, t.Score.salt)
                              .join(t.Reviewer, t.Reviewer.id == t.Score.reviewer_id)
                              .join(db.Team, db.Team.id == t.Score.team_id).where(t.Score.stage_id == srow.id))
    fields = ("reviewer", "team", "criterion", "score", "note", "salt")
    row.closed_at, row.record = utcnow(), json_safe(record.model_dump(mode="json"))
    session.flush()
    append(session, "panel closed", srow.key,
           {"stage": srow.key, "sha256": record.sha256(),
            "scores": sorted((dict(zip(fields, r)) for r in reveals), key=lambda d: tuple(map(str, d.values())))})
    return record


def panel_scores(session: Session, stage_key: str | None) -> PanelScores:
    """The closed panel's record, as kept at close (reads only)."""
    _, srow = stage_of(session, stage_key)
    row = _round(session, srow)
    if row is None or row.record is None:
        raise PanelError(f"the panel of stage {srow.key} is still open" if row else
                         f"the panel of stage {srow.key} is not assigned yet")
    return PanelScores.model_validate(row.record)
