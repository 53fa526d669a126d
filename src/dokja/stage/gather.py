"""Reading a stage's inputs out of the store, read-only: the one place the decision touches the database."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..harness.runner import run_settings
from ..harness.suite import stage_settings
from ..programme import Programme
from ..store import schema as db
from .inputs import Finding, StageError, read_findings, read_points
from .records import (ArenaUsed, Evidence, ItemScore, ProvenanceEvidence, ReferenceEntry, ReviewerNote, Ruling,
                      RunUsed, StageInputs, SuiteUsed, TeamEntry)


@dataclass(frozen=True)
class OfficeFiles:
    """What the office hands in beside the store: expert points (a CSV, or none: the closed panel's scores),
    optional user points, findings, votes."""

    expert: Path | None = None
    user: Path | None = None
    findings: Path | None = None
    votes: Path | None = None


def latest_run(session: Session, model: db.Model, suite: db.Suite, spec: Programme) -> RunUsed | None:
    """The newest finished run of a model on a suite made with the programme's run settings (item limit,
    few-shot, suite commitment): a quick run with other settings never stands in for the stage's."""
    _, config_hash = run_settings(suite.sha256, *stage_settings(suite.meta, suite.key, spec.suites))
    run = session.scalars(select(db.Run).where(db.Run.model_id == model.id, db.Run.suite_id == suite.id,
                                               db.Run.config_hash == config_hash, db.Run.status == "finished")
                          .order_by(db.Run.id.desc())).first()
    if run is None:
        return None
    rows = session.execute(select(db.Item.key, db.Result.metrics).join(db.Item, db.Item.id == db.Result.item_id)
                           .where(db.Result.run_id == run.id).order_by(db.Item.position)).all()
    items = tuple(ItemScore(item=key, score=float(m[suite.metric])) for key, m in rows if m and suite.metric in m)
    return RunUsed(run_id=run.id, suite=suite.key, metric=suite.metric, limit=run.config.get("limit"),
                   num_fewshot=run.config.get("num_fewshot", 0), commitment=run.config["suite_sha256"],
                   config_hash=run.config_hash, items=items)


def _suites(session: Session, spec: Programme) -> dict[str, db.Suite]:
    rows = {r.key: r for r in session.scalars(select(db.Suite).where(db.Suite.key.in_(spec.suites.all)))}
    missing = [k for k in spec.suites.all if k not in rows]
    if missing:
        raise StageError(f"no evaluation yet of {', '.join(missing)}: run `dokja eval` before deciding")
    return {k: rows[k] for k in spec.suites.all}


def _evidence(session: Session, model: db.Model, ruling: Finding | None, ref_hashes: dict[str, str]) -> Evidence:
    from ..provenance.records import gate_view

    view = gate_view(session, model.name)
    prov = None
    if view is not None:
        prov = ProvenanceEvidence(check_id=view["check_id"], passed=view["passed"],
                                  automatic=view["automatic"], summary=view["summary"],
                                  checked_at=view["checked_at"], components=tuple(view["components"]),
                                  notes=tuple(ReviewerNote(**n) for n in view["notes"]))
    return Evidence(provenance=prov, ruling=Ruling(passed=ruling.passed, note=ruling.note) if ruling else None,
                    hash_match=ref_hashes.get(model.sha256) if model.sha256 else None)


def _references(session: Session, prow: db.Programme, spec: Programme, suites) -> list[ReferenceEntry]:
    out = []
    for ref in session.scalars(select(db.Reference).where(db.Reference.programme_id == prow.id)
                               .order_by(db.Reference.id)):
        runs = {}
        if ref.model is not None:
            runs = {k: run for k, s in suites.items() if (run := latest_run(session, ref.model, s, spec))}
        out.append(ReferenceEntry(name=ref.name, vendor=ref.vendor, released=ref.released, source=ref.source,
                                  published={k: float(v) for k, v in (ref.scores or {}).items()},
                                  model=ref.model.name if ref.model else None,
                                  model_sha256=ref.model.sha256 if ref.model else None, runs=runs))
    return out


def _team(session, sub: db.Submission, spec: Programme, suites, points, ref_hashes, cache: Path) -> TeamEntry:
    from ..registry import verify_checkpoint

    team, model = sub.team, sub.model
    verify_checkpoint(model, cache)
    runs = {}
    for key, suite in suites.items():
        run = latest_run(session, model, suite, spec)
        if run is None:
            k = spec.suites.num_fewshot.get(key, suite.meta.get("num_fewshot", 0))
            raise StageError(f"team {team.key!r} (model {model.name}): no finished run of {key} with the stage's "
                             f"settings (limit {spec.suites.limit_of(key) or 'none'}, {k}-shot); run `dokja eval`")
        runs[key] = run
    expert, user, findings = points
    if expert is not None and team.key not in expert:
        raise StageError(f"no expert points for team {team.key!r}")
    return TeamEntry(id=team.key, name=team.name, name_ko=team.name_ko, target=team.target, model=model.name,
                     model_sha256=model.sha256, runs=runs, expert=expert[team.key] if expert is not None else None,
                     user=user.get(team.key),
                     evidence=_evidence(session, model, findings.get(team.key), ref_hashes))


def _arena(session: Session, votes: Path | None, stage: str) -> ArenaUsed:
    """The stage's votes with the flags they carry now: a vote of another stage never counts; an export made
    before votes carried their stage ("") counts for the stage it is given to."""
    from ..arena.export import read_votes
    from ..arena.service import votes_from_store

    if votes:
        records = [v for v in read_votes(votes) if v.stage in ("", stage)]
    else:
        records = votes_from_store(session, refresh=False, stage=stage)
    return ArenaUsed(source=votes.name if votes else "arena", votes=tuple(records))


def _panel(session: Session, stage: str):
    """The closed panel's scores: expert points without a CSV come from the panel or not at all."""
    from ..panel import panel_scores
    from ..panel.errors import PanelError

    try:
        return panel_scores(session, stage)
    except PanelError as exc:
        raise StageError(f"{exc}; close the panel (`dokja panel close`) or give --expert CSV") from None


def gather_inputs(session: Session, prow: db.Programme, srow: db.Stage, files: OfficeFiles, *, decided_at: str,
                  reason: str = "", version: str = "", cache: Path = Path(".dokja")) -> StageInputs:
    """Everything a decision of this stage uses, read from the store and the office's files; writes nothing."""
    spec = Programme.model_validate(prow.config)
    suites = _suites(session, spec)
    subs = list(session.scalars(select(db.Submission).where(db.Submission.stage_id == srow.id)
                                .order_by(db.Submission.id)))
    known = {s.team.key for s in subs}
    points = (read_points(files.expert, "expert", known) if files.expert else None, read_points(files.user, "user", known) if files.user
              else {}, read_findings(files.findings, known) if files.findings else {})
    refs = _references(session, prow, spec, suites)
    ref_hashes = {r.model_sha256: r.name for r in refs if r.model_sha256}
    teams = tuple(_team(session, sub, spec, suites, points, ref_hashes, cache) for sub in subs)
    from ..registry import latest_decision

    previous = getattr(latest_decision(session, srow), "id", None)
    stage_suites = tuple(SuiteUsed(id=k, title_en=s.title_en, title_ko=s.title_ko,
                                   component=spec.suites.component_of(k), metric=s.metric, commitment=s.sha256,
                                   n_items=max((len(t.runs[k].items) for t in teams), default=0))
                         for k, s in suites.items())
    return StageInputs(programme=spec, programme_sha256=hashlib.sha256((prow.source or "").encode()).hexdigest(),
                       stage=srow.key, decided_at=decided_at, teams=teams, references=tuple(refs),
                       suites=stage_suites, user_source="csv" if files.user else "arena",
                       arena=None if files.user else _arena(session, files.votes, srow.key),
                       panel=None if files.expert else _panel(session, srow.key), supersedes=previous,
                       reason=reason, version=version)
