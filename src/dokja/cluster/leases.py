"""Chunks in the store and their leases: the one place workers coordinate, so any of them may die.

A claim takes the first open chunk (pending, or leased with its lease lapsed): `SELECT … FOR UPDATE SKIP
LOCKED` on PostgreSQL, and on SQLite, which ignores that clause, an UPDATE that succeeds only while the chunk
is still claimable. A chunk's results are written in the same transaction that marks it done, and only by
the worker still holding its lease."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..store import schema as db
from .plan import Chunk
from .tables import DONE, LEASED, PENDING, EvalChunk

RETIRED = "retired"  # planned once, then superseded before it was scored


@dataclass(frozen=True)
class Lease:
    chunk_id: int
    run_id: int
    keys: tuple[str, ...]
    holder: str
    attempt: int


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def open_chunks(session: Session, run_id: int) -> list[tuple[str, ...]]:
    rows = session.scalars(select(EvalChunk).where(EvalChunk.run_id == run_id,
                                                   EvalChunk.state.in_((PENDING, LEASED))).order_by(EvalChunk.id))
    return [tuple(row.item_keys) for row in rows]


def ensure_chunks(session: Session, run_id: int, planned: list[Chunk]) -> None:
    """Make the store's open chunks of the run exactly `planned`: new ones added, a scored chunk whose items
    need scoring again (they failed) reopened, open ones no longer planned retired."""
    rows = {row.sha256: row for row in session.scalars(select(EvalChunk).where(EvalChunk.run_id == run_id))}
    wanted = {chunk.sha256 for chunk in planned}
    for row in rows.values():
        if row.state in (PENDING, LEASED) and row.sha256 not in wanted:
            row.state, row.lease_holder, row.lease_expires = RETIRED, None, None
    for chunk in planned:
        row = rows.get(chunk.sha256)
        if row is None:
            session.add(EvalChunk(run_id=run_id, sha256=chunk.sha256, item_keys=list(chunk.keys), state=PENDING))
        elif row.state in (DONE, RETIRED):
            row.state, row.lease_holder, row.lease_expires, row.finished_at = PENDING, None, None, None
    session.flush()


def _claimable(now: dt.datetime):
    return or_(EvalChunk.state == PENDING, and_(EvalChunk.state == LEASED, EvalChunk.lease_expires < now))


def claim(sessions: sessionmaker[Session], run_ids: list[int], holder: str, seconds: float,
          now: dt.datetime | None = None) -> Lease | None:
    """Lease the first claimable chunk of these runs to `holder` for `seconds`; None when there is none."""
    while True:
        at = now or now_utc()
        with sessions.begin() as session:
            chunk_id = session.scalar(select(EvalChunk.id).where(EvalChunk.run_id.in_(run_ids), _claimable(at))
                                      .order_by(EvalChunk.id).limit(1).with_for_update(skip_locked=True))
            if chunk_id is None:
                return None
            won = session.execute(
                update(EvalChunk).where(EvalChunk.id == chunk_id, _claimable(at))
                .values(state=LEASED, lease_holder=holder, lease_expires=at + dt.timedelta(seconds=seconds),
                        attempts=EvalChunk.attempts + 1).execution_options(synchronize_session=False)).rowcount
            if won:
                row = session.get(EvalChunk, chunk_id)
                session.refresh(row)
                return Lease(chunk_id, row.run_id, tuple(row.item_keys), holder, row.attempts)


def renew(sessions: sessionmaker[Session], lease: Lease, seconds: float, now: dt.datetime | None = None) -> bool:
    """Push the lease's expiry on while its holder works; False once it is no longer the holder."""
    at = now or now_utc()
    with sessions.begin() as session:
        return bool(session.execute(
            update(EvalChunk).where(EvalChunk.id == lease.chunk_id, EvalChunk.state == LEASED,
                                    EvalChunk.lease_holder == lease.holder)
            .values(lease_expires=at + dt.timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)).rowcount)


def release(sessions: sessionmaker[Session], token: str) -> int:
    """Give back at once every chunk leased by a holder named `token…` (a worker known to be dead)."""
    with sessions.begin() as session:
        return session.execute(
            update(EvalChunk).where(EvalChunk.state == LEASED, EvalChunk.lease_holder.startswith(token))
            .values(state=PENDING, lease_holder=None, lease_expires=None)
            .execution_options(synchronize_session=False)).rowcount


def complete(sessions: sessionmaker[Session], lease: Lease, scored: list[tuple[int, dict, dict]],
             usage: dict[str, float] | None = None) -> bool:
    """Write the chunk's results (item id, metrics, detail) and mark it done, in one transaction, if `lease`
    still holds; a failed item's earlier row is replaced. False, with nothing written, if it does not."""
    try:
        with sessions.begin() as session:
            won = session.execute(  # the write comes first, so SQLite serialises the whole transaction
                update(EvalChunk).where(EvalChunk.id == lease.chunk_id, EvalChunk.state == LEASED,
                                        EvalChunk.lease_holder == lease.holder)
                .values(state=DONE, lease_expires=None, finished_at=now_utc())
                .execution_options(synchronize_session=False)).rowcount
            if not won:
                return False
            ids = [item_id for item_id, _, _ in scored]
            failed = {item_id: result_id for result_id, item_id, metrics in session.execute(
                select(db.Result.id, db.Result.item_id, db.Result.metrics).where(
                    db.Result.run_id == lease.run_id, db.Result.item_id.in_(ids))) if not metrics}
            for item_id, metrics, detail in scored:
                if item_id in failed:
                    row = session.get(db.Result, failed[item_id])
                    row.metrics, row.detail = metrics, detail
                else:
                    session.add(db.Result(run_id=lease.run_id, item_id=item_id, metrics=metrics, detail=detail))
            if usage:
                _add_usage(session, lease.run_id, usage)
    except IntegrityError:  # an item already scored by another run of the harness: never write it twice
        with sessions.begin() as session:
            session.execute(update(EvalChunk).where(EvalChunk.id == lease.chunk_id).values(state=RETIRED))
        return False
    return True


def _add_usage(session: Session, run_id: int, usage: dict[str, float]) -> None:
    run = session.scalar(select(db.Run).where(db.Run.id == run_id).with_for_update())
    total = dict(run.config.get("usage") or {})
    for key, value in usage.items():
        total[key] = total.get(key, 0) + value
    run.config = {**run.config, "usage": total}


def done_chunks(session: Session, run_ids: list[int]) -> set[tuple[int, str]]:
    """(run, chunk hash) of the chunks already done: the progress bars' figure."""
    return set(session.execute(select(EvalChunk.run_id, EvalChunk.sha256).where(
        EvalChunk.run_id.in_(run_ids), EvalChunk.state == DONE)).all())


def still_open(session: Session, run_ids: list[int]) -> int:
    return session.scalar(select(func.count()).select_from(EvalChunk).where(
        EvalChunk.run_id.in_(run_ids), EvalChunk.state.in_((PENDING, LEASED)))) or 0
