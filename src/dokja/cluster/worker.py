"""A model replica: one process that loads the weights once and scores the chunks it leases until none is
left. Run as a Ray actor (`ray.remote(Replica)`); nothing here needs Ray itself."""

from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..harness.runner import backend_usage, score_chunk, scoring_mode
from ..harness.suite import Suite
from ..models import Backend, open_backend
from ..store import open_store
from .leases import Lease, claim, complete, renew, still_open

POLL = 0.5  # seconds between looks at chunks another replica holds


@dataclass(frozen=True)
class ModelSpec:
    name: str
    location: str
    chat: bool
    gpus: int = 0
    concurrency: int | None = None  # an endpoint replica's share of its endpoint's limit


@dataclass(frozen=True)
class RunTask:
    """One run's items for the replica to score: the suite as the driver loaded it, and the store's item ids."""

    run_id: int
    suite: Suite
    num_fewshot: int
    item_ids: dict[str, int]


def load(spec: ModelSpec, cache: Path) -> Backend:
    """The model's backend; a `vllm:` model is spread over the replica's GPUs by tensor parallelism."""
    if spec.location.startswith("vllm:") and spec.gpus > 1:
        from ..models.vllm_backend import VLLMModel

        return VLLMModel(spec.location.removeprefix("vllm:"), name=spec.name, chat=spec.chat,
                         tensor_parallel_size=spec.gpus)
    backend = open_backend(spec.location, name=spec.name, chat=spec.chat, cache=cache)
    if spec.concurrency is not None and hasattr(backend, "concurrency"):
        backend.concurrency = spec.concurrency
    return backend


class Replica:
    def __init__(self, store_url: str, spec: ModelSpec, token: str, cache: str, lease_seconds: float):
        self.sessions = open_store(store_url, upgrade=False)
        self.cache, self.seconds = Path(cache), lease_seconds
        self.backend = load(spec, self.cache)
        self.holder = f"{token} {socket.gethostname()} pid {os.getpid()}"
        self.modes: dict[int, str] = {}
        self.judges: dict[str, Backend] = {}

    def work(self, tasks: list[RunTask]) -> int:
        """Score leased chunks of these runs until every chunk is done; the number scored here."""
        by_run = {task.run_id: task for task in tasks}
        scored = 0
        while True:
            lease = claim(self.sessions, list(by_run), self.holder, self.seconds)
            if lease is None:
                if not self._others_hold(list(by_run)):
                    return scored
                time.sleep(POLL)
                continue
            with self._heartbeat(lease):
                results, usage = self._score(by_run[lease.run_id], lease)
            scored += int(complete(self.sessions, lease, results, usage))

    def _score(self, task: RunTask, lease: Lease) -> tuple[list[tuple[int, dict, dict]], dict]:
        suite = task.suite
        by_key = {item["id"]: item for item in suite.items}
        items = [by_key[key] for key in lease.keys]
        mode = self.modes.get(task.run_id) or scoring_mode(suite, self.backend)
        before = backend_usage(self.backend)
        mode, scored = score_chunk(suite, items, self.backend, task.num_fewshot, mode, self._judge(suite))
        self.modes[task.run_id] = mode
        after = backend_usage(self.backend)
        usage = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        return [(task.item_ids[item["id"]], metrics, detail) for item, (metrics, detail) in zip(items, scored)], usage

    def _judge(self, suite: Suite) -> Backend | None:
        if suite.meta.get("scorer") != "rubric":
            return None
        if suite.id not in self.judges:
            self.judges[suite.id] = open_backend(suite.meta["judge"]["model"], name=f"judge:{suite.id}",
                                                 chat=True, cache=self.cache)
        return self.judges[suite.id]

    def _others_hold(self, run_ids: list[int]) -> bool:
        """Chunks another holder leases may come back (it dies, its lease lapses), so they are waited for."""
        with self.sessions() as session:
            return bool(still_open(session, run_ids))

    @contextmanager
    def _heartbeat(self, lease: Lease):
        """Renew the lease while the chunk is scored, so only a holder that stops renewing loses it."""
        stop = threading.Event()

        def beat():
            while not stop.wait(self.seconds / 3):
                renew(self.sessions, lease, self.seconds)

        thread = threading.Thread(target=beat, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
