"""Provenance in the store: keep each verdict, attach reviewers' notes, and turn both into the independence
gate's findings. The one place provenance touches the database."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit.log import append, canonical_json, json_safe
from .tables import ProvenanceCheck, ProvenanceNote


def record_check(session: Session, verdict: dict, *, location: str = "", model_id: int | None = None) -> ProvenanceCheck:
    row = ProvenanceCheck(model_id=model_id, model_name=verdict["model"], location=location,
                          passed=bool(verdict["passed"]), summary=verdict["summary"], data=verdict)
    session.add(row)
    session.flush()
    append(session, "provenance verdict", verdict["model"],
           {"check": row.id, "model": verdict["model"], "passed": bool(verdict["passed"]),
            "summary": verdict["summary"], "sha256": hashlib.sha256(canonical_json(json_safe(verdict))).hexdigest()})
    return row


def add_note(session: Session, model_name: str, note: str, *, passed: bool | None = None,
             reviewer: str = "") -> ProvenanceNote:
    row = ProvenanceNote(model_name=model_name, note=note, passed=passed, reviewer=reviewer)
    session.add(row)
    session.flush()
    append(session, "reviewer note", model_name, {"note": row.id, "model": model_name, "text": note,
                                                  "passed": passed, "reviewer": reviewer})
    return row


def latest_check(session: Session, model_name: str) -> ProvenanceCheck | None:
    return session.scalars(select(ProvenanceCheck).where(ProvenanceCheck.model_name == model_name)
                           .order_by(ProvenanceCheck.id.desc())).first()


def notes(session: Session, model_name: str) -> list[ProvenanceNote]:
    return list(session.scalars(select(ProvenanceNote).where(ProvenanceNote.model_name == model_name)
                                .order_by(ProvenanceNote.id)))


def gate_view(session: Session, model_name: str) -> dict | None:
    """What the independence gate needs of a model: the latest verdict, the notes, and the standing outcome
    (a reviewer's note with a verdict, the latest such, stands over the automatic verdict)."""
    check, kept = latest_check(session, model_name), notes(session, model_name)
    if check is None and not kept:
        return None
    passed = check.passed if check is not None else None
    ruled = [n for n in kept if n.passed is not None]
    if ruled:
        passed = ruled[-1].passed
    return {"model": model_name, "check_id": None if check is None else check.id, "passed": passed,
            "automatic": None if check is None else check.passed,
            "summary": check.summary if check is not None else "no provenance check",
            "checked_at": str(check.created_at) if check is not None else None,
            "components": check.data.get("components", []) if check is not None else [],
            "notes": [{"note": n.note, "passed": n.passed, "reviewer": n.reviewer} for n in kept]}


def check_model(session: Session, name: str, location: str, *, cache, library_dir=None, layers: int = 4,
                model_id: int | None = None) -> dict:
    """Fingerprint one checkpoint, judge it against every library entry, and keep the verdict."""
    from ..models import ModelError, resolve
    from . import library as lib
    from .fingerprint import take
    from .verdict import check

    where = resolve(location, cache)
    if where.kind == "endpoint":
        raise ModelError(f"{name}: an endpoint has no weights to check; register its checkpoint instead")
    verdict = check(take(where.path, name=name, layers=layers), lib.entries(library_dir), lib.null(library_dir))
    record_check(session, verdict, location=location, model_id=model_id)
    return verdict
