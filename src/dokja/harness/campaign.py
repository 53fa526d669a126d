"""Evaluating every model a stage needs (team submissions and runnable references) on every suite."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, partial
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..models import open_backend
from ..programme import Programme
from ..registry import verify_checkpoint
from ..store import schema as db
from .runner import evaluate
from .suite import Suite, load_suite, stage_settings


def stage_models(session: Session, programme: db.Programme, stage: db.Stage) -> list[db.Model]:
    models = [s.model for s in session.scalars(select(db.Submission).where(db.Submission.stage_id == stage.id))]
    models += [r.model for r in session.scalars(select(db.Reference).where(
        db.Reference.programme_id == programme.id)) if r.model is not None]
    return list({m.id: m for m in models}.values())


def progress_bar(console=None) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


@dataclass(frozen=True)
class Work:
    """One model on one suite under the programme's run settings: the unit `dokja eval` runs, on one machine
    or on a cluster, so both make the same run."""

    model: db.Model
    suite: Suite
    limit: int | None
    num_fewshot: int | None

    @property
    def n_items(self) -> int:
        return min(self.limit, len(self.suite.items)) if self.limit else len(self.suite.items)


def _stage_suite(key: str, spec: Programme) -> tuple[Suite, int | None, int | None]:
    """The suite as the stage runs it (its answer budget applied), its item limit and its few-shot count."""
    suite = load_suite(key)
    meta, limit, k = stage_settings(suite.meta, suite.id, spec.suites)
    return replace(suite, meta=meta), limit, k


def stage_work(models: list[db.Model], suite_keys: list[str], spec: Programme,
               only_model: str | None = None) -> list[Work]:
    settings = [_stage_suite(key, spec) for key in suite_keys]
    return [Work(model, suite, limit, k) for model in models
            if not only_model or model.name == only_model for suite, limit, k in settings]


def outcome_row(model: str, suite: str, computed: int, resumed: int, summary: dict) -> dict:
    return {"model": model, "suite": suite, "computed": computed, "resumed": resumed, "summary": summary}


def evaluate_models(sessions: sessionmaker[Session], models: list[db.Model], suite_keys: list[str],
                    spec: Programme, *, cache_dir: Path, console=None, only_model: str | None = None,
                    unsafe_code: bool = False) -> list[dict]:
    """Run each model on each suite; finished items are skipped, so calling this again resumes. Code runs in
    the sandbox; `unsafe_code` lets it run without one where none works."""
    work = stage_work(models, suite_keys, spec, only_model)
    judges = {w.suite.id: cache(partial(open_backend, w.suite.meta["judge"]["model"], name=f"judge:{w.suite.id}",
                                        chat=True, cache=cache_dir))
              for w in work if w.suite.meta.get("scorer") == "rubric"}
    backends: dict[int, object] = {}
    outcomes = []
    with progress_bar(console) as bar:
        for w in work:
            model = w.model
            if model.id not in backends:
                verify_checkpoint(model, cache_dir)
                backends[model.id] = cache(partial(open_backend, model.location, name=model.name, chat=model.chat,
                                                   cache=cache_dir))
            task = bar.add_task(f"{model.name[:28]:<28} {w.suite.id:<18}", total=w.n_items)
            outcome = evaluate(sessions, model, w.suite, backends[model.id], limit=w.limit,
                               num_fewshot=w.num_fewshot, on_items=lambda k, task=task: bar.advance(task, k),
                               judge=judges.get(w.suite.id), unsafe_code=unsafe_code)
            outcomes.append(outcome_row(model.name, w.suite.id, outcome.computed, outcome.done_before,
                                        outcome.summary))
    return outcomes
