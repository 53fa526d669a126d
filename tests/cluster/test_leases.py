"""Leases in the store (SQLite and PostgreSQL): a chunk is held by one worker at a time, a lapsed lease is
taken over, and only the holder's results are ever written."""

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from dokja.cluster.leases import claim, complete, ensure_chunks, release, renew
from dokja.cluster.plan import plan_chunks
from dokja.cluster.tables import EvalChunk
from dokja.harness.runner import register_suite
from dokja.harness.suite import Suite
from dokja.store import open_store
from dokja.store import schema as db

T0 = dt.datetime(2026, 6, 30, 9, 0)


def a_run(sessions, n_items=6, size=2):
    items = [{"id": f"q{i}", "context": "?", "choices": ["a", "b"], "answer": 0} for i in range(n_items)]
    suite = Suite("tiny", {"kind": "multiple_choice", "metric": "acc"}, items)
    with sessions.begin() as s:
        model = db.Model(name="m", kind="hf", location="nowhere")
        s.add(model)
        suite_row = register_suite(s, suite)
        run = db.Run(model_id=model.id, suite_id=suite_row.id, config_hash="h" * 64, config={}, n_items=n_items)
        s.add(run)
        s.flush()
        ensure_chunks(s, run.id, plan_chunks(run.config_hash, [i["id"] for i in items], [], size))
        ids = {i.key: i.id for i in s.scalars(select(db.Item))}
        return run.id, ids


def scored(lease, ids, value=1):
    return [(ids[key], {"acc": value}, {"method": "loglikelihood"}) for key in lease.keys]


def results(sessions, run_id):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(db.Result).where(db.Result.run_id == run_id))


def test_a_lapsed_lease_is_taken_over_and_the_old_holder_writes_nothing(store_url):
    sessions = open_store(store_url)
    run_id, ids = a_run(sessions)
    first = claim(sessions, [run_id], "worker-a", 10, now=T0)
    assert first.keys == ("q0", "q1") and first.attempt == 1
    assert claim(sessions, [run_id], "worker-b", 10, now=T0 + dt.timedelta(seconds=5)).keys == ("q2", "q3")
    assert renew(sessions, first, 10, now=T0 + dt.timedelta(seconds=8))  # worker-a still alive at 8 s
    assert claim(sessions, [run_id], "worker-c", 10, now=T0 + dt.timedelta(seconds=12)).keys == ("q4", "q5")
    taken = claim(sessions, [run_id], "worker-c", 10, now=T0 + dt.timedelta(seconds=19))  # a stopped at 8 s
    assert (taken.chunk_id, taken.attempt) == (first.chunk_id, 2)
    assert not renew(sessions, first, 10)
    assert not complete(sessions, first, scored(first, ids, 0))
    assert results(sessions, run_id) == 0
    assert complete(sessions, taken, scored(taken, ids, 1))
    with sessions() as s:
        kept = s.scalars(select(db.Result.metrics).where(db.Result.item_id.in_([ids["q0"], ids["q1"]]))).all()
    assert kept == [{"acc": 1}, {"acc": 1}]
    assert claim(sessions, [run_id], "worker-d", 10, now=T0 + dt.timedelta(seconds=14)) is None  # all held


def test_a_dead_workers_leases_are_released_at_once(store_url):
    sessions = open_store(store_url)
    run_id, ids = a_run(sessions)
    held = claim(sessions, [run_id], "f00d host pid 12", 600)
    assert release(sessions, "beef") == 0
    assert release(sessions, "f00d") == 1
    again = claim(sessions, [run_id], "cafe host pid 13", 600)
    assert again.chunk_id == held.chunk_id


def test_a_chunk_is_planned_once_per_run(store_url):
    from sqlalchemy.exc import IntegrityError

    sessions = open_store(store_url)
    run_id, _ = a_run(sessions)
    with pytest.raises(IntegrityError):
        with sessions.begin() as s:
            row = s.scalars(select(EvalChunk)).first()
            s.add(EvalChunk(run_id=run_id, sha256=row.sha256, item_keys=row.item_keys))


def test_concurrent_claims_never_share_a_chunk(store_url):
    sessions = open_store(store_url)
    run_id, ids = a_run(sessions, n_items=40, size=1)
    got: dict[str, list[int]] = {}

    def worker(name):
        mine = got.setdefault(name, [])
        while (lease := claim(sessions, [run_id], name, 60)) is not None:
            mine.append(lease.chunk_id)
            assert complete(sessions, lease, scored(lease, ids))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [c for chunks in got.values() for c in chunks]
    assert len(every) == len(set(every)) == 40
    assert results(sessions, run_id) == 40
