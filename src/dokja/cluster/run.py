"""The driver of a distributed evaluation: plans the chunks in the store, starts a replica per model (more
by setting), replaces replicas that die, and finishes each run exactly as a single-process run does."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..audit.log import append
from ..harness.campaign import Work, outcome_row, progress_bar
from ..harness.runner import CHUNK, register_suite, results_sha256, run_settings, summarise
from ..models import materialise_gguf, resolve
from ..registry import verify_checkpoint
from ..store import schema as db
from .errors import ClusterError
from .leases import done_chunks, ensure_chunks, open_chunks, release, still_open
from .plan import Chunk, endpoint_shares, gpus_for, plan_chunks, sizing
from .worker import ModelSpec, Replica, RunTask

PASSED_ENV = ("DOKJA_API_KEY", "HF_HUB_OFFLINE", "TQDM_DISABLE")  # what replicas need from the operator's shell
WEIGHTS = (".safetensors", ".bin", ".pt")


@dataclass(frozen=True)
class ClusterSettings:
    address: str = "auto"  # a Ray address; "auto" joins the cluster on this machine or starts one
    gpus: dict[str, int] = field(default_factory=dict)  # per model, standing over the size rule
    replicas: int = 1  # per model
    gpu_resource: str = "GPU"  # the Ray resource a replica's GPUs are counted in
    gpu_memory_gib: float = 80.0
    endpoint_limits: dict[str, int] = field(default_factory=dict)  # requests at a time, per endpoint URL
    endpoint_default: int = 8
    chunk_size: int = CHUNK
    lease_seconds: float = 120.0
    max_deaths: int = 3  # per model, before the evaluation stops


@dataclass(frozen=True)
class RunPlan:
    work: Work
    run_id: int
    done_before: int
    todo: int
    task: RunTask
    chunks: tuple[Chunk, ...]


def connect(address: str):
    """Ray, joined once per process; a test's own local cluster is reused as it is."""
    try:
        import ray
    except ImportError:
        raise ClusterError("--ray needs Ray: pip install 'dokja[ray]'") from None
    if not ray.is_initialized():
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        try:
            ray.init(address=None if address == "auto" else address, include_dashboard=False,
                     runtime_env={"env_vars": env} if env else None, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ClusterError(f"cannot join the Ray cluster at {address}: {str(exc).splitlines()[0]}") from None
    return ray


def worker_store_url(sessions: sessionmaker[Session], nodes: int) -> str:
    """The store as the replicas reach it: a SQLite file only serves replicas on this machine."""
    url = sessions.kw["bind"].url
    if url.get_backend_name() != "sqlite":
        return url.render_as_string(hide_password=False)
    if nodes > 1:
        raise ClusterError(f"the cluster has {nodes} nodes and the store is a SQLite file; give every node the "
                           "same store with --db postgresql+psycopg://…")
    return f"sqlite:///{Path(url.database).resolve()}"


def open_run(session: Session, work: Work, chunk_size: int) -> RunPlan:
    """The run a single-process evaluation would make (same configuration, same hash), its items still to
    score, and their chunks, planned in the store."""
    suite = work.suite
    config, config_hash = run_settings(suite.sha256, suite.meta, work.limit, work.num_fewshot)
    chosen = suite.items[:work.limit] if work.limit else suite.items
    suite_row = register_suite(session, suite)
    run = session.scalar(select(db.Run).where(db.Run.model_id == work.model.id, db.Run.suite_id == suite_row.id,
                                              db.Run.config_hash == config_hash))
    if run is None:
        run = db.Run(model_id=work.model.id, suite_id=suite_row.id, config_hash=config_hash, config=config,
                     n_items=len(chosen))
        session.add(run)
        session.flush()
    item_ids = {i.key: i.id for i in session.scalars(select(db.Item).where(db.Item.suite_id == suite_row.id))}
    done = {item_id for item_id, metrics in session.execute(
        select(db.Result.item_id, db.Result.metrics).where(db.Result.run_id == run.id)) if metrics}
    todo = [item["id"] for item in chosen if item_ids[item["id"]] not in done]
    chunks = plan_chunks(config_hash, todo, open_chunks(session, run.id), chunk_size)
    ensure_chunks(session, run.id, chunks)
    task = RunTask(run.id, suite, config["num_fewshot"], {key: item_ids[key] for key in todo})
    return RunPlan(work, run.id, len(chosen) - len(todo), len(todo), task, tuple(chunks))


def finish(sessions: sessionmaker[Session], plan: RunPlan) -> dict:
    """Close the run as the single-process runner does: logged with its results' hash, then summarised."""
    model, suite = plan.work.model, plan.work.suite
    with sessions.begin() as session:
        run = session.get(db.Run, plan.run_id)
        if run.status != "finished" or plan.todo:
            append(session, "run finished", f"{model.name}/{suite.id}",
                   {"run": run.id, "model": model.name, "suite": suite.id, "config_hash": run.config_hash,
                    "results_sha256": results_sha256(session, run.id)})
        run.status, run.finished_at = "finished", run.finished_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        summary = summarise(session, run.id)
    return outcome_row(model.name, suite.id, plan.todo, plan.done_before, summary)


def weight_bytes(location: str, cache: Path) -> int:
    """The checkpoint's weights on disk (a GGUF as the backend loads it, dequantised); an endpoint has none."""
    if location.startswith("vllm:"):
        folder = Path(location.removeprefix("vllm:"))
    else:
        where = resolve(location, cache)
        if where.kind == "endpoint":
            return 0
        folder = materialise_gguf(where.path, cache) if where.kind == "gguf" else Path(where.path)
    return sum(p.stat().st_size for p in folder.rglob("*") if p.suffix in WEIGHTS)


def model_specs(models: list[db.Model], settings: ClusterSettings, cache: Path) -> dict[str, list[ModelSpec]]:
    """Each model's replicas: GPUs from its size (or the per-model setting), an endpoint's limit shared."""
    out: dict[str, list[ModelSpec]] = {}
    calls: list[tuple[str, str]] = []
    for model in models:
        gpus = settings.gpus.get(model.name)
        if gpus is None:
            gpus = gpus_for(weight_bytes(model.location, cache), settings.gpu_memory_gib)
        out[model.name] = [ModelSpec(model.name, model.location, model.chat, gpus)] * settings.replicas
        if model.location.startswith(("http://", "https://")):
            calls += [(model.name, model.location.partition("#")[0].rstrip("/"))] * settings.replicas
    shares = endpoint_shares([base for _, base in calls], settings.endpoint_limits, settings.endpoint_default)
    for (name, _), share in zip(calls, shares):
        i = next(i for i, s in enumerate(out[name]) if s.concurrency is None)
        out[name][i] = ModelSpec(name, out[name][i].location, out[name][i].chat, 0, share)
    return out


@dataclass
class _Slot:
    model: str
    spec: ModelSpec
    token: str
    actor: object


class _Replicas:
    """The live replicas: started with their resource requests, replaced when one dies, stopped when done."""

    def __init__(self, ray, sessions, store_url: str, settings: ClusterSettings, cache: Path):
        self.ray, self.sessions, self.store_url, self.settings, self.cache = ray, sessions, store_url, settings, cache
        self.actor_class = ray.remote(Replica)
        self.live: dict[object, _Slot] = {}
        self.deaths: dict[str, int] = {}

    def start(self, model: str, spec: ModelSpec, tasks: list[RunTask]) -> None:
        token = uuid.uuid4().hex[:16]
        gpus = {self.settings.gpu_resource: spec.gpus} if spec.gpus else {}
        options = dict(num_cpus=0 if spec.gpus else 1, max_restarts=0)
        options.update(num_gpus=spec.gpus) if self.settings.gpu_resource == "GPU" else options.update(resources=gpus)
        actor = self.actor_class.options(**options).remote(self.store_url, spec, token, str(self.cache.resolve()),
                                                           self.settings.lease_seconds)
        self.live[actor.work.remote(tasks)] = _Slot(model, spec, token, actor)

    def wait(self, timeout: float) -> list[tuple[_Slot, BaseException | None]]:
        """Replicas that stopped within `timeout`, each with what ended it (None: its work was done)."""
        ready, _ = self.ray.wait(list(self.live), num_returns=1, timeout=timeout)
        ended = []
        for ref in ready:
            slot = self.live.pop(ref)
            try:
                self.ray.get(ref)
                ended.append((slot, None))
            except self.ray.exceptions.RayTaskError as exc:  # the scoring itself failed: no retry helps
                raise exc.cause if isinstance(exc.cause, ValueError) else ClusterError(
                    f"replica of {slot.model} failed: {str(exc.cause or exc).splitlines()[0]}") from None
            except self.ray.exceptions.RayActorError as exc:
                if getattr(exc, "actor_init_failed", False):  # the weights would not load: no retry helps
                    self.ray.kill(slot.actor)
                    lines = [line for line in str(exc).splitlines() if line.strip()]
                    raise ClusterError(f"replica of {slot.model} could not start: {lines[-1].strip()}") from None
                ended.append((slot, exc))
            self.ray.kill(slot.actor)
        return ended

    def died(self, slot: _Slot, exc: BaseException) -> None:
        """A dead replica's leases go back at once (no waiting for them to lapse)."""
        release(self.sessions, slot.token)
        self.deaths[slot.model] = self.deaths.get(slot.model, 0) + 1
        if self.deaths[slot.model] > self.settings.max_deaths:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ClusterError(f"replicas of {slot.model} died {self.deaths[slot.model]} times; last: {reason}")

    def alive(self, model: str) -> int:
        return sum(slot.model == model for slot in self.live.values())

    def stop(self) -> None:
        for slot in self.live.values():
            self.ray.kill(slot.actor)
            release(self.sessions, slot.token)
        self.live.clear()


def evaluate_on_cluster(sessions: sessionmaker[Session], work: list[Work], settings: ClusterSettings, *,
                        cache_dir: Path, console=None) -> list[dict]:
    """Evaluate `work` on a Ray cluster; the store, not Ray, knows what is done, so calling it again (or a
    single-process `evaluate`) resumes. Per-item results equal a single-process run's."""
    ray = connect(settings.address)
    store_url = worker_store_url(sessions, len([n for n in ray.nodes() if n.get("Alive")]))
    models = list({w.model.id: w.model for w in work}.values())
    for model in models:
        verify_checkpoint(model, cache_dir)
    with sessions.begin() as session:
        plans = [open_run(session, w, settings.chunk_size) for w in work]
    specs = model_specs(models, settings, cache_dir)
    cluster_gpus = ray.cluster_resources().get(settings.gpu_resource, 0)
    sizing([s.gpus for model in models for s in specs[model.name]], cluster_gpus)
    tasks = {m.name: [p.task for p in plans if p.work.model.id == m.id and p.chunks] for m in models}
    replicas = _Replicas(ray, sessions, store_url, settings, cache_dir)
    with progress_bar(console) as bar:
        bars = {p.run_id: bar.add_task(f"{p.work.model.name[:28]:<28} {p.work.suite.id:<18}",
                                       total=p.work.n_items, completed=p.done_before) for p in plans}
        try:
            for model in models:
                for spec in specs[model.name] if tasks[model.name] else []:
                    replicas.start(model.name, spec, tasks[model.name])
            while replicas.live:
                for slot, exc in replicas.wait(timeout=1.0):
                    if exc is not None:
                        replicas.died(slot, exc)
                    runs = [t.run_id for t in tasks[slot.model]]
                    with sessions() as session:
                        left = still_open(session, runs)
                    if left and (exc is not None or not replicas.alive(slot.model)):
                        replicas.start(slot.model, slot.spec, tasks[slot.model])
                _advance(sessions, bar, bars, plans)
        finally:
            replicas.stop()
        _advance(sessions, bar, bars, plans)
    return [finish(sessions, plan) for plan in plans]


def _advance(sessions, bar, bars: dict[int, object], plans: list[RunPlan]) -> None:
    with sessions() as session:
        done = done_chunks(session, list(bars))
    for plan in plans:
        scored = sum(len(c.keys) for c in plan.chunks if (plan.run_id, c.sha256) in done)
        bar.update(bars[plan.run_id], completed=plan.done_before + scored)
