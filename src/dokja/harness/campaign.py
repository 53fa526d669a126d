"""Evaluating every model a stage needs (team submissions and runnable references) on every suite."""

from __future__ import annotations

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
from .suite import load_suite


def stage_models(session: Session, programme: db.Programme, stage: db.Stage) -> list[db.Model]:
    models = [s.model for s in session.scalars(select(db.Submission).where(db.Submission.stage_id == stage.id))]
    models += [r.model for r in session.scalars(select(db.Reference).where(
        db.Reference.programme_id == programme.id)) if r.model is not None]
    return list({m.id: m for m in models}.values())


def progress_bar(console=None) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


def evaluate_models(sessions: sessionmaker[Session], models: list[db.Model], suite_keys: list[str],
                    spec: Programme, *, cache_dir: Path, console=None, only_model: str | None = None) -> list[dict]:
    """Run each model on each suite; finished items are skipped, so calling this again resumes."""
    suites = [load_suite(k) for k in suite_keys]
    limit = spec.suites.limit
    judges = {s.id: cache(partial(open_backend, s.meta["judge"]["model"], name=f"judge:{s.id}", chat=True,
                                  cache=cache_dir)) for s in suites if s.meta.get("scorer") == "rubric"}
    outcomes = []
    with progress_bar(console) as bar:
        for model in models:
            if only_model and model.name != only_model:
                continue
            verify_checkpoint(model, cache_dir)
            backend = cache(partial(open_backend, model.location, name=model.name, chat=model.chat, cache=cache_dir))
            for suite in suites:
                judge = judges.get(suite.id)
                n = min(limit, len(suite.items)) if limit else len(suite.items)
                task = bar.add_task(f"{model.name[:28]:<28} {suite.id:<18}", total=n)
                outcome = evaluate(sessions, model, suite, backend, limit=limit,
                                   num_fewshot=spec.suites.num_fewshot.get(suite.id),
                                   on_items=lambda k, task=task: bar.advance(task, k), judge=judge)
                outcomes.append({"model": model.name, "suite": suite.id, "computed": outcome.computed,
                                 "resumed": outcome.done_before, "summary": outcome.summary})
    return outcomes
