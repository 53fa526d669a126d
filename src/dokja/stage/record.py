"""The office verb: gather a stage's inputs, decide, and record both with an audit entry, in one transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from ..audit.log import append
from ..store import schema as db
from .decision import decide
from .gather import OfficeFiles, gather_inputs
from .records import Decision, StageInputs


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def keep_decision(session: Session, stage: db.Stage, inputs: StageInputs, decision: Decision) -> db.Decision:
    """Append the decision (never overwrite one): its inputs, both hashes, what it supersedes; and log it."""
    row = db.Decision(stage_id=stage.id, data=decision.model_dump(mode="json"),
                      inputs=inputs.model_dump(mode="json"), inputs_sha256=decision.inputs_sha256,
                      sha256=decision.sha256(), supersedes_id=inputs.supersedes)
    session.add(row)
    session.flush()
    append(session, "decision", stage.key, {"decision": row.id, "sha256": row.sha256,
                                            "inputs_sha256": row.inputs_sha256, "supersedes": inputs.supersedes,
                                            "reason": inputs.reason})
    stage.status = "decided"
    return row


def decide_stage(sessions: sessionmaker[Session], stage: str | None, files: OfficeFiles, *, reason: str = "",
                 version: str = "", cache: Path = Path(".dokja"), decided_at: str | None = None
                 ) -> tuple[int, Decision]:
    """Gather (read-only), decide (pure) and record, in one transaction; returns the new decision's id."""
    from ..registry import programme_row, stage_row
    from .inputs import StageError

    if files.user is None and files.votes is None:
        from ..arena.service import refresh_flags, vote_rows

        with sessions.begin() as session:  # the honesty flags brought up to date, before the inputs are read
            refresh_flags(session, vote_rows(session))
    with sessions.begin() as session:
        prow = programme_row(session)
        srow = stage_row(session, prow, stage)
        inputs = gather_inputs(session, prow, srow, files, decided_at=decided_at or now_utc(), reason=reason,
                               version=version, cache=cache)
        if inputs.supersedes is not None and not reason:
            raise StageError(f"stage {srow.key!r} already has decision {inputs.supersedes}: say why it is "
                             "decided again with --reason")
        decision = decide(inputs)
        row = keep_decision(session, srow, inputs, decision)
        return row.id, decision


def _core(inputs: StageInputs) -> StageInputs:
    """The inputs without what only says when and why a decision was recorded."""
    return inputs.model_copy(update={"decided_at": "", "supersedes": None, "reason": "", "version": ""})


def standing_decision(sessions: sessionmaker[Session], stage: str | None, files: OfficeFiles, *,
                      cache: Path = Path(".dokja")) -> tuple[int, Decision] | None:
    """The stage's latest decision if deciding again would use the same inputs and reach the same decision
    (reads only); else None."""
    from ..registry import latest_decision, programme_row, stage_row

    with sessions.begin() as session:
        prow = programme_row(session)
        srow = stage_row(session, prow, stage)
        row = latest_decision(session, srow)
        if row is None or row.inputs is None:
            return None
        now = gather_inputs(session, prow, srow, files, decided_at="", cache=cache)
        kept = StageInputs.model_validate(row.inputs)
        if _core(now) != _core(kept):
            return None
        replayed = decide(kept)  # and this version of Dokja decides them as the recorded decision says
        return (row.id, replayed) if replayed.sha256() == row.sha256 else None


def replay(row: db.Decision) -> Decision:
    """The decision recomputed from its stored inputs (what a vote or run arriving later cannot change)."""
    return decide(StageInputs.model_validate(row.inputs))
