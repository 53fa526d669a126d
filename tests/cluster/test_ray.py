"""On Ray's local cluster, with a real model: a replica killed while it holds a lease loses the chunk, another
scores it, and every per-item result equals a single-process run's."""

import json
import os
import signal
import threading
import time

import pytest
import ray
from sqlalchemy import select

from dokja.cluster import ClusterError, ClusterSettings, evaluate_on_cluster
from dokja.cluster.tables import LEASED, EvalChunk
from dokja.harness import evaluate, load_suite
from dokja.harness.campaign import Work
from dokja.harness.runner import results_sha256
from dokja.models import open_backend
from dokja.registry import add_model
from dokja.store import open_store
from dokja.store import schema as db



@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, resources={"dokja_gpu": 1}, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def make_suite(path, n):
    path.mkdir()
    (path / "suite.toml").write_text('id = "largest"\ntitle_en = "Largest number"\nlanguage = "en"\n'
                                     'category = "math"\nkind = "multiple_choice"\nmetric = "acc"\n')
    lines = []
    for i in range(n):
        nums = [str(10 + (i * 7 + k * 13) % 90) for k in range(4)]
        lines.append(json.dumps({"id": f"q{i}", "context": f"Question: Which is the largest: {', '.join(nums)}?"
                                 "\nAnswer:", "choices": nums, "answer": max(range(4), key=lambda k: int(nums[k]))}))
    (path / "items.jsonl").write_text("\n".join(lines) + "\n")
    return load_suite(str(path))


def per_item(sessions, run_id):
    with sessions() as s:
        rows = s.execute(select(db.Item.key, db.Result.metrics, db.Result.detail)
                         .join(db.Item, db.Item.id == db.Result.item_id).where(db.Result.run_id == run_id))
        return {key: (metrics, detail) for key, metrics, detail in rows}, results_sha256(s, run_id)


def logged_sha(sessions):
    with sessions() as s:
        entry = s.scalars(select(db.AuditEntry).where(db.AuditEntry.kind == "run finished")).one()
        return entry.payload["results_sha256"]


def kill_first_holder(sessions, killed: list):
    """Kill, as the kernel's OOM killer would, the first replica seen holding a lease."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        with sessions() as s:
            held = s.scalars(select(EvalChunk).where(EvalChunk.state == LEASED)).first()
        if held is not None:
            os.kill(int(held.lease_holder.rsplit(" ", 1)[1]), signal.SIGKILL)
            killed.append((held.id, held.lease_holder))
            return
        time.sleep(0.02)


def test_a_killed_replica_loses_its_chunk_and_results_equal_one_process(cluster, tmp_path, smollm2_dir, cache):
    suite = make_suite(tmp_path / "suite", 8)
    alone = open_store(f"sqlite:///{tmp_path / 'alone.db'}")
    with alone.begin() as s:
        model = add_model(s, "smol", str(smollm2_dir))
    single = evaluate(alone, model, suite, lambda: open_backend(str(smollm2_dir)))

    sessions = open_store(f"sqlite:///{tmp_path / 'cluster.db'}")
    with sessions.begin() as s:
        model = add_model(s, "smol", str(smollm2_dir))
    killed: list = []
    killer = threading.Thread(target=kill_first_holder, args=(sessions, killed))
    killer.start()
    settings = ClusterSettings(gpu_resource="dokja_gpu", lease_seconds=30, chunk_size=4)
    [outcome] = evaluate_on_cluster(sessions, [Work(model, suite, None, None)], settings, cache_dir=cache)
    killer.join()

    assert killed, "no replica was seen holding a lease"
    chunk_id, holder = killed[0]
    with sessions() as s:
        chunk = s.get(EvalChunk, chunk_id)
        assert chunk.state == "done" and chunk.attempts == 2 and chunk.lease_holder != holder
        assert {c.state for c in s.scalars(select(EvalChunk))} == {"done"}
    assert (outcome["computed"], outcome["resumed"]) == (8, 0)
    ours, ours_sha = per_item(sessions, outcome_run(sessions))
    theirs, theirs_sha = per_item(alone, single.run_id)
    assert {k: m for k, (m, _) in ours.items()} == {k: m for k, (m, _) in theirs.items()}
    assert ours_sha == theirs_sha == logged_sha(sessions) == logged_sha(alone)
    for key, (_, detail) in ours.items():
        assert detail["logprobs"] == pytest.approx(theirs[key][1]["logprobs"], abs=1e-5)
    assert outcome["summary"]["acc"] == single.summary["acc"]

    again = evaluate(sessions, model, suite, lambda: pytest.fail("nothing is left to compute"))
    assert (again.done_before, again.computed) == (8, 0)


def outcome_run(sessions):
    with sessions() as s:
        return s.scalars(select(db.Run.id)).one()


def test_a_replica_larger_than_the_cluster_is_refused(cluster, tmp_path, smollm2_dir, cache):
    suite = make_suite(tmp_path / "suite", 4)
    sessions = open_store(f"sqlite:///{tmp_path / 'big.db'}")
    with sessions.begin() as s:
        model = add_model(s, "smol", str(smollm2_dir))
    settings = ClusterSettings(gpu_resource="dokja_gpu", gpus={"smol": 2})
    with pytest.raises(ClusterError, match="needs 2 GPU"):
        evaluate_on_cluster(sessions, [Work(model, suite, None, None)], settings, cache_dir=cache)
