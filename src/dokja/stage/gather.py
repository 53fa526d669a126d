"""Reading a stage's inputs out of the store: the one place the decision touches the database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..harness.runner import summarise
from ..store import schema as db
from .decision import decide
from .inputs import Finding, ReferenceInput, Score, TeamInput, read_findings, read_points


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
        finding = findings.get(team.key)
        copied = ref_hashes.get(model.sha256) if model.sha256 else None
        if copied:
            note = f"checkpoint SHA-256 identical to frontier reference {copied}"
            finding = Finding(False, "; ".join(x for x in (note, finding.note if finding else "") if x))
        teams.append(TeamInput(id=team.key, name=team.name, name_ko=team.name_ko, model=model.name,
                               target=team.target, scores=latest_scores(session, model.id, suite_keys),
                               expert=expert.get(team.key), user=user.get(team.key), independence=finding))
    return teams, refs


def decide_from_store(sessions: sessionmaker[Session], stage: str | None, expert: Path, user: Path,
                      findings: Path | None, *, version: str = "") -> dict:
    """Gather a stage's inputs, decide it, and keep the decision in the store."""
    from ..programme import Programme
    from ..registry import programme_row, stage_row

    with sessions.begin() as session:
        prow = programme_row(session)
        spec = Programme.model_validate(prow.config)
        srow = stage_row(session, prow, stage)
        keys = spec.suites.all
        teams, refs = stage_inputs(session, prow, srow, keys, expert=read_points(expert, "expert"),
                                   user=read_points(user, "user"),
                                   findings=read_findings(findings) if findings else {})
        data = decide(spec, spec.stage(srow.key), teams, refs, suite_meta(session, keys), version=version)
        session.add(db.Decision(stage_id=srow.id, data=data))
        srow.status = "decided"
    return data
