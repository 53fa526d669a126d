"""Running a model on a suite: items are stored as they finish, so a killed run resumes where it stopped."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..models.base import Backend
from ..store import schema as db
from . import prompts, scoring
from .suite import Suite

HARNESS_VERSION = 1
CHUNK = 16


@dataclass
class RunOutcome:
    run_id: int
    done_before: int
    computed: int
    summary: dict


def register_suite(session: Session, suite: Suite) -> db.Suite:
    """Record the suite and its items; an item set that changed gets its new payloads, keyed by item id."""
    row = session.scalar(select(db.Suite).where(db.Suite.key == suite.id))
    fields = dict(title_en=suite.meta.get("title_en", suite.id), title_ko=suite.meta.get("title_ko", ""),
                  language=suite.meta.get("language", ""), category=suite.meta.get("category", ""),
                  kind=suite.kind, metric=suite.metric, sha256=suite.sha256,
                  meta={k: v for k, v in suite.meta.items() if k != "id"})
    if row is None:
        row = db.Suite(key=suite.id, **fields)
        session.add(row)
        session.flush()
    elif row.sha256 != suite.sha256:
        for key, value in fields.items():
            setattr(row, key, value)
    existing = {i.key: i for i in session.scalars(select(db.Item).where(db.Item.suite_id == row.id))}
    for position, item in enumerate(suite.items):
        known = existing.get(item["id"])
        if known is None:
            session.add(db.Item(suite_id=row.id, key=item["id"], position=position, payload=item))
        elif known.payload != item or known.position != position:
            known.payload, known.position = item, position
    session.flush()
    return row


def run_config(suite: Suite, limit: int | None, num_fewshot: int) -> dict:
    return {"suite_sha256": suite.sha256, "limit": limit, "num_fewshot": num_fewshot, "harness": HARNESS_VERSION}


def _score_chunk(suite: Suite, items: list[dict], backend: Backend, k: int) -> list[tuple[dict, dict]]:
    if suite.kind == "multiple_choice":
        requests, spans = [], []
        for item in items:
            reqs = prompts.choice_requests(suite, item, k)
            spans.append((len(requests), len(reqs)))
            requests.extend(reqs)
        lls = backend.loglikelihood(requests)
        out = []
        for item, (start, n) in zip(items, spans):
            lps = [ll.logprob for ll in lls[start:start + n]]
            metrics = scoring.multiple_choice(lps, item["choices"], item["answer"])
            detail = {"logprobs": lps, "greedy": [ll.greedy for ll in lls[start:start + n]],
                      "n_tokens": [ll.n_tokens for ll in lls[start:start + n]], "source": "loglikelihood"}
            out.append((metrics, detail))
        return out
    gen = suite.meta.get("generate", {})
    texts = backend.generate([prompts.generation_prompt(suite, item, k) for item in items],
                             max_new_tokens=gen.get("max_new_tokens", 32), stop=gen.get("stop", ["\n"]))
    return [(scoring.generation(text, str(item["answer"])), {"output": text, "source": "generation"})
            for item, text in zip(items, texts)]


def evaluate(sessions: sessionmaker[Session], model: db.Model, suite: Suite, backend: Callable[[], Backend], *,
             limit: int | None = None, num_fewshot: int | None = None,
             on_items: Callable[[int], None] | None = None) -> RunOutcome:
    """Evaluate `model` on `suite`; `backend` is called only if some item still needs computing."""
    k = suite.meta.get("num_fewshot", 0) if num_fewshot is None else num_fewshot
    config = run_config(suite, limit, k)
    config_hash = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    chosen = suite.items[:limit] if limit else suite.items
    with sessions.begin() as session:
        suite_row = register_suite(session, suite)
        run = session.scalar(select(db.Run).where(db.Run.model_id == model.id, db.Run.suite_id == suite_row.id,
                                                  db.Run.config_hash == config_hash))
        if run is None:
            run = db.Run(model_id=model.id, suite_id=suite_row.id, config_hash=config_hash, config=config,
                         n_items=len(chosen))
            session.add(run)
            session.flush()
        run_id = run.id
        item_ids = {i.key: i.id for i in session.scalars(select(db.Item).where(db.Item.suite_id == suite_row.id))}
        done = set(session.scalars(select(db.Result.item_id).where(db.Result.run_id == run_id)))
    todo = [item for item in chosen if item_ids[item["id"]] not in done]
    if on_items and len(chosen) - len(todo):
        on_items(len(chosen) - len(todo))
    if todo:
        model_backend = backend()
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            scored = _score_chunk(suite, chunk, model_backend, k)
            with sessions.begin() as session:
                for item, (metrics, detail) in zip(chunk, scored):
                    session.add(db.Result(run_id=run_id, item_id=item_ids[item["id"]], metrics=metrics, detail=detail))
            if on_items:
                on_items(len(chunk))
    with sessions.begin() as session:
        run = session.get(db.Run, run_id)
        run.status, run.finished_at = "finished", run.finished_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        summary = summarise(session, run_id)
    return RunOutcome(run_id, len(chosen) - len(todo), len(todo), summary)


def summarise(session: Session, run_id: int) -> dict:
    """Each metric's mean and standard error over the run's finished items."""
    rows = list(session.scalars(select(db.Result.metrics).where(db.Result.run_id == run_id)))
    out: dict = {"n": len(rows)}
    for metric in sorted({m for r in rows for m in r}):
        mean, se = scoring.mean_and_stderr([float(r[metric]) for r in rows if metric in r])
        out[metric] = {"mean": mean, "stderr": se}
    return out
