"""Reading a stage's inputs out of the store: the one place the decision touches the database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..harness.runner import summarise
from ..provenance.records import gate_view
from ..store import schema as db
from .decision import decide
from .inputs import Finding, ReferenceInput, Score, StageError, TeamInput, read_findings, read_points


def latest_scores(session: Session, model_id: int, suite_keys: list[str]) -> dict[str, Score]:
    """Each suite's primary metric from the model's most recent finished run on it."""
    out = {}
    for key in suite_keys:
        run = session.scalars(select(db.Run).join(db.Suite).where(
            db.Run.model_id == model_id, db.Suite.key == key, db.Run.status == "finished")
            .order_by(db.Run.finished_at.desc(), db.Run.id.desc())).first()
        if run is None:
            continue
        summary = summarise(session, run.id)
        metric = run.suite.metric
        if metric in summary:
            out[key] = Score(summary[metric]["mean"], summary[metric]["stderr"], summary["n"], metric)
    return out


def suite_meta(session: Session, keys: list[str]) -> dict[str, dict]:
    out = {}
    for row in session.scalars(select(db.Suite).where(db.Suite.key.in_(keys))):
        runs = session.scalars(select(db.Run.n_items).where(db.Run.suite_id == row.id)).all()
        out[row.key] = {"title_en": row.title_en, "title_ko": row.title_ko, "metric": row.metric,
                        "n_items": max(runs) if runs else None}
    return out


def independence(finding: Finding | None, copied: str | None, provenance: dict | None) -> Finding | None:
    """The independence gate's finding from its three sources: the reviewers' row, an exact checkpoint-hash
    match with a reference, and the stored provenance verdict (with any reviewer's note standing over it)."""
    notes, passed = [], finding.passed if finding else True
    if copied:
        notes.append(f"checkpoint SHA-256 identical to frontier reference {copied}")
        passed = False
    if provenance is not None:
        notes.append(f"provenance: {provenance['summary']}")
        notes += [f"reviewer{' ' + n['reviewer'] if n['reviewer'] else ''}: {n['note']}" for n in provenance["notes"]]
        if provenance["passed"] is False:
            passed = False
    if finding and finding.note:
        notes.append(finding.note)
    if finding is None and not notes:
        return None
    return Finding(passed, "; ".join(notes))


def stage_inputs(session: Session, programme: db.Programme, stage: db.Stage, suite_keys: list[str], *,
                 expert: dict[str, float], user: dict[str, float],
                 findings: dict[str, Finding]) -> tuple[list[TeamInput], list[ReferenceInput]]:
    refs, ref_hashes = [], {}
    for ref in session.scalars(select(db.Reference).where(db.Reference.programme_id == programme.id)):
        scores = {k: float(v) for k, v in (ref.scores or {}).items()}
        if ref.model is not None:
            scores.update({k: s.score for k, s in latest_scores(session, ref.model_id, suite_keys).items()})
            if ref.model.sha256:
                ref_hashes[ref.model.sha256] = ref.name
        refs.append(ReferenceInput(ref.name, ref.vendor, ref.released, scores, ref.source))
    teams = []
    for sub in session.scalars(select(db.Submission).where(db.Submission.stage_id == stage.id)):
        team, model = sub.team, sub.model
        copied = ref_hashes.get(model.sha256) if model.sha256 else None
        finding = independence(findings.get(team.key), copied, gate_view(session, model.name))
        teams.append(TeamInput(id=team.key, name=team.name, name_ko=team.name_ko, model=model.name,
                               target=team.target, scores=latest_scores(session, model.id, suite_keys),
                               expert=expert.get(team.key), user=user.get(team.key), independence=finding))
    return teams, refs


def provenance_views(session: Session, teams: list[TeamInput]) -> list[dict]:
    """The stored provenance verdict of each team's model, for the report."""
    out = []
    for t in teams:
        view = gate_view(session, t.model)
        if view is not None:
            out.append({"team": t.id, "team_name": t.name, **view})
    return out


def arena_user_points(session: Session, spec, teams: list[TeamInput], votes: Path | None) -> tuple[dict, dict]:
    """User-evaluation points from the public arena, by the programme's mapping: from a votes export when
    one is given (anyone can recompute it), else from the arena's own votes in the store."""
    from ..arena.export import read_votes
    from ..arena.leaderboard import leaderboard_json
    from ..arena.points import leaderboard_for_stage, user_points
    from ..arena.service import votes_from_store

    records = read_votes(votes) if votes else votes_from_store(session)
    if not records:
        raise StageError("the arena has no votes yet: give user points as a CSV (--user) or a votes export (--votes)")
    board = leaderboard_for_stage(records, spec.arena)
    points = user_points(board, {t.model: t.id for t in teams}, mapping=spec.arena, total=spec.scheme.user)
    return points, {**leaderboard_json(board), "source": str(votes.name) if votes else "arena"}


def decide_from_store(sessions: sessionmaker[Session], stage: str | None, expert: Path, user: Path | None,
                      findings: Path | None, *, votes: Path | None = None, version: str = "") -> dict:
    """Gather a stage's inputs, decide it, and keep the decision in the store. User points come from a CSV
    when `user` is given, otherwise from the arena's ratings."""
    from ..programme import Programme
    from ..registry import programme_row, stage_row

    with sessions.begin() as session:
        prow = programme_row(session)
        spec = Programme.model_validate(prow.config)
        srow = stage_row(session, prow, stage)
        keys = spec.suites.all
        teams, refs = stage_inputs(session, prow, srow, keys, expert=read_points(expert, "expert"),
                                   user=read_points(user, "user") if user else {},
                                   findings=read_findings(findings) if findings else {})
        arena = None
        if user is None:
            points, arena = arena_user_points(session, spec, teams, votes)
            for team in teams:
                team.user = points.get(team.id, 0.0)
        data = decide(spec, spec.stage(srow.key), teams, refs, suite_meta(session, keys), version=version)
        data["provenance"] = provenance_views(session, teams)
        if arena is not None:
            data["arena"] = arena
        session.add(db.Decision(stage_id=srow.id, data=data))
        srow.status = "decided"
    return data
