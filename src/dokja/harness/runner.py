"""Running a model on a suite: items are stored as they finish, so a killed run resumes where it stopped."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..audit.log import append, canonical_json
from ..models.base import Backend, Failed
from ..store import schema as db
from . import code, multiturn, prompts, reasoning, scoring, stats
from .judge import JudgeSetup, Turn
from .sampling import Sampling, SamplingError, reduce, sampling_of
from .sandbox import Sandbox, find_sandbox
from .suite import Suite, SuiteError

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
                  meta={k: v for k, v in suite.meta.items() if k not in ("id", "budget")})  # a budget is a run setting
    if row is None or row.sha256 != suite.sha256:
        append(session, "suite registered", suite.id, {"suite": suite.id, "commitment": suite.sha256})
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


LOGLIKELIHOOD, GENERATION = "loglikelihood", "generation"
Scored = tuple[dict, dict]  # (metrics, detail); a failed item has no metrics and says why in detail["failed"]


def run_config(suite: Suite, limit: int | None, num_fewshot: int, samples: Sampling | None = None) -> dict:
    """What decides the results; scorer settings only appear when they differ from the default, so runs
    recorded before they existed keep their identity."""
    return config_of(suite.sha256, suite.meta, limit, num_fewshot, samples)


def sampling_for(meta: dict, samples: Sampling | None = None) -> Sampling:
    """The programme's sampling settings where it gives them, else the suite's `samples`."""
    if samples is not None:
        return samples
    try:
        return sampling_of(meta.get("samples"), f"suite {meta.get('id', '')}: samples")
    except SamplingError as exc:
        raise SuiteError(str(exc)) from None


def config_of(suite_sha256: str, meta: dict, limit: int | None, num_fewshot: int,
              samples: Sampling | None = None) -> dict:
    config = {"suite_sha256": suite_sha256, "limit": limit, "num_fewshot": num_fewshot, "harness": HARNESS_VERSION}
    scorer = meta.get("scorer")
    if scorer not in (None, "loglikelihood", "exact_match", "numeric"):
        config["scorer"] = scorer
    for key in ("regex", "judge", "description", "code", "budget", "agent"):
        if meta.get(key):
            config[key] = meta[key]
    if num_fewshot > 0 and meta.get("fewshot_sampler", "first") != "first":  # "first" runs keep their hash
        config["fewshot_sampler"] = meta["fewshot_sampler"]
        config["fewshot_seed"] = meta.get("fewshot_seed", prompts.LMEVAL_SEED)
    sampling = sampling_for(meta, samples)
    if not sampling.default:  # so a 1-sample run never stands in for a 10-sample one
        config["samples"] = sampling.config()
    return config


def run_settings(suite_sha256: str, meta: dict, limit: int | None, num_fewshot: int | None,
                 samples: Sampling | None = None) -> tuple[dict, str]:
    """A run's configuration and its hash under the programme's settings: the one rule that says which run
    is the stage's (the evaluation makes it; the decision looks it up)."""
    k = meta.get("num_fewshot", 0) if num_fewshot is None else num_fewshot
    config = config_of(suite_sha256, meta, limit, k, samples)
    return config, hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def _failed(method: str, reason: str, **detail) -> Scored:
    return {}, {"method": method, "failed": reason, **detail}


def _loglikelihood_chunk(suite: Suite, items: list[dict], backend: Backend, k: int) -> list[Scored]:
    requests, spans = [], []
    for item in items:
        reqs = prompts.choice_requests(suite, item, k)
        spans.append((len(requests), len(reqs)))
        requests.extend(reqs)
    lls = backend.loglikelihood(requests)
    out = []
    for item, (start, n) in zip(items, spans):
        got = lls[start:start + n]
        bad = next((ll for ll in got if isinstance(ll, Failed)), None)
        if bad is not None:
            out.append(_failed(LOGLIKELIHOOD, bad.reason))
            continue
        lps = [float(ll.logprob) for ll in got]
        detail = {"logprobs": lps, "greedy": [bool(ll.greedy) for ll in got],
                  "n_tokens": [int(ll.n_tokens) for ll in got], "method": LOGLIKELIHOOD}
        out.append((scoring.multiple_choice(lps, item["choices"], item["answer"]), detail))
    return out


def _letter_chunk(suite: Suite, items: list[dict], backend: Backend, k: int) -> list[Scored]:
    gen = suite.meta.get("generate", {})
    texts = backend.generate([prompts.letter_prompt(suite, item, k) for item in items],
                             max_new_tokens=gen.get("max_new_tokens", 32), stop=gen.get("stop", ["\n\n"]))
    out = []
    for item, text in zip(items, texts):
        if isinstance(text, Failed):
            out.append(_failed(GENERATION, text.reason))
            continue
        thinking, answer = reasoning.split_thinking(str(text))  # a letter inside the thinking does not count
        metrics, chosen = scoring.letter_choice(answer, len(item["choices"]), item["answer"])
        detail = {"output": answer, "letter": chosen, "method": GENERATION}
        out.append((metrics, {**detail, "thinking": thinking} if thinking else detail))
    return out


def _generate(backend: Backend, suite: Suite, texts: list[str], items: list[dict], sampling: Sampling) -> list[list]:
    """Each item's samples: one greedy answer, or n drawn with the item's and sample's own seeds."""
    gen = suite.meta.get("generate", {})
    options = dict(max_new_tokens=gen.get("max_new_tokens", 32), stop=gen.get("stop", ["\n"]))
    if sampling.default:
        return [[t] for t in backend.generate(texts, **options)]
    if "seeds" not in inspect.signature(backend.generate).parameters:
        raise SuiteError(f"suite {suite.id}: {getattr(backend, 'name', 'the model')} cannot draw seeded samples "
                         f"(temperature {sampling.temperature}, {sampling.n} samples)")
    seeds = [seed for item in items for seed in sampling.seeds(item["id"])]
    flat = backend.generate([t for t in texts for _ in range(sampling.n)], **options,
                            temperature=sampling.temperature, seeds=seeds)
    return [flat[i:i + sampling.n] for i in range(0, len(flat), sampling.n)]


def _score_text(suite: Suite, item: dict, generated, scorer: str, sandbox: Sandbox | None) -> tuple[Scored, dict]:
    """One answer scored; the thinking before it, and the request's tokens and latency, kept beside it."""
    if isinstance(generated, Failed):
        return _failed(GENERATION, generated.reason), {}
    thinking, text = reasoning.split_thinking(generated)
    text = str(text)
    extra = reasoning.item_measures(generated, thinking)
    if scorer == "code":
        metrics, detail = code.score(sandbox, item, text, suite.meta)
        return (metrics, {**detail, "method": GENERATION, **extra}), extra
    if scorer == "regex":
        metrics, found = scoring.regex_generation(text, str(item["answer"]), suite.meta["regex"])
        return (metrics, {"output": text, "extracted": found, "method": GENERATION, **extra}), extra
    if scorer == "math":  # competition maths; imported here, as it brings in sympy
        from .mathanswer import score as math_score

        metrics, found = math_score(text, str(item["answer"]))
        return (metrics, {"output": text, "extracted": found, "method": GENERATION, **extra}), extra
    if scorer == "ifeval":
        from .ifeval import score as ifeval_score

        metrics, verdicts = ifeval_score(item, text)
        return (metrics, {"output": text, "method": GENERATION, **verdicts, **extra}), extra
    if scorer == "calls":
        from .calls import score as calls_score

        metrics, checked = calls_score(item, text)
        return (metrics, {"output": text, "method": GENERATION, **checked, **extra}), extra
    detail = {"output": text, "extracted": scoring.extract_number(text), "method": GENERATION, **extra}
    return (scoring.generation(text, str(item["answer"])), detail), extra


def _generation_chunk(suite: Suite, items: list[dict], backend: Backend, k: int, judge: Backend | None = None, *,
                      sampling: Sampling | None = None, sandbox: Sandbox | None = None) -> list[Scored]:
    """Every scorer sees only the answer (`_score_text`); n samples of an item are reduced to one record whose
    detail keeps every sample (`sampling.reduce`). Code runs in `sandbox`, else the first that works here."""
    sampling = sampling or sampling_for(suite.meta)
    scorer = suite.meta.get("scorer", "exact_match")
    if scorer == "code" and sandbox is None:
        sandbox = find_sandbox()
    texts = _generate(backend, suite, [prompts.generation_prompt(suite, item, k) for item in items], items, sampling)
    out: list[Scored] = []
    kept: list[dict] = []
    for item, samples in zip(items, texts):
        scored = [_score_text(suite, item, generated, scorer, sandbox) for generated in samples]
        if sampling.default:
            out.append(scored[0][0])
            kept.append(scored[0][1])
        else:
            out.append(reduce([s for s, _ in scored], sampling, suite.metric, sampling.seeds(item["id"])))
            kept.append({})
    if scorer == "rubric":
        out = [(metrics, {**detail, **extra}) for (metrics, detail), extra in
               zip(_rubric(suite, items, out, judge), kept)]
    return out


def _rubric(suite: Suite, items: list[dict], answered: list[Scored], judge: Backend | None) -> list[Scored]:
    """The judge grades each generated answer (a score, or a verdict against the reference in both orders,
    `judge.mode`); an unreadable reply fails the item rather than scoring it 0. The judge's name, prompts and
    raw replies are kept in the item's detail."""
    if judge is None:
        raise SuiteError(f"suite {suite.id}: the rubric scorer needs a judge model (judge.model)")
    setup = JudgeSetup.from_suite(suite)
    todo = [i for i, (metrics, _) in enumerate(answered) if metrics]
    dialogues = [[Turn(items[i]["prompt"], answered[i][1]["output"], str(items[i]["answer"]))] for i in todo]
    out = list(answered)
    for i, judged in zip(todo, multiturn.judge_dialogues(judge, setup, dialogues)):
        detail = {"output": answered[i][1]["output"], "judge": judged.record()}
        out[i] = _failed(GENERATION, judged.failed, **detail) if judged.failed else (
            judged.metrics, {**detail, "method": GENERATION})
    return out


def _mode(suite: Suite, backend: Backend) -> str:
    """How multiple choice is scored: log-likelihoods, or a generated letter where the model cannot give them."""
    if suite.kind != "multiple_choice":
        return GENERATION
    if suite.meta.get("scorer") == "letter" or getattr(backend, "chat_only", False):
        return "letter"
    return LOGLIKELIHOOD


def _score_chunk(suite: Suite, items: list[dict], backend: Backend, k: int, mode: str,
                 judge: Backend | None = None, *, sampling: Sampling | None = None,
                 sandbox: Sandbox | None = None) -> tuple[str, list[Scored]]:
    if mode == LOGLIKELIHOOD:
        try:
            return mode, _loglikelihood_chunk(suite, items, backend, k)
        except NotImplementedError:  # a chat-only endpoint: ask for the letter instead
            mode = "letter"
    if mode == "letter":
        return mode, _letter_chunk(suite, items, backend, k)
    if multiturn.is_multiturn(suite):  # conversations: answered and judged turn by turn
        return mode, multiturn.conversation_chunk(suite, items, backend, judge)
    if suite.meta.get("scorer") == "agent":  # tools and a scripted user, scored by the final database
        from .agent import agent_chunk

        return mode, agent_chunk(suite, items, backend)
    return mode, _generation_chunk(suite, items, backend, k, judge, sampling=sampling, sandbox=sandbox)


def _usage(backend: Backend) -> dict[str, float]:
    usage = getattr(backend, "usage", None)
    if usage is None:
        return {}
    raw = usage.as_dict() if hasattr(usage, "as_dict") else dict(usage)
    return {k: v for k, v in raw.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def _add_usage(run: db.Run, before: dict, after: dict) -> None:
    if not after:
        return
    total = dict(run.config.get("usage") or {})
    for key, value in after.items():
        total[key] = total.get(key, 0) + value - before.get(key, 0)
    run.config = {**run.config, "usage": total}


def evaluate(sessions: sessionmaker[Session], model: db.Model, suite: Suite, backend: Callable[[], Backend], *,
             limit: int | None = None, num_fewshot: int | None = None,
             on_items: Callable[[int], None] | None = None,
             judge: Callable[[], Backend] | None = None, samples: Sampling | None = None,
             unsafe_code: bool = False) -> RunOutcome:
    """Evaluate `model` on `suite`; `backend` is called only if some item still needs computing.

    An item the backend reports as `Failed` is kept with its reason, left out of the scores, and tried
    again by the next call; the run itself always finishes. `samples` (else the suite's own) draws n answers
    per item; a code suite's programs run in the sandbox, or, with `unsafe_code`, without one if none works."""
    if suite.meta.get("scorer") == "rubric" and judge is None:
        raise SuiteError(f"suite {suite.id}: the rubric scorer needs a judge model (judge.model)")
    multiturn.check_suite(suite)
    sampling = sampling_for(suite.meta, samples)
    if not sampling.default and (suite.kind != "generate" or suite.meta.get("scorer") == "rubric"):
        raise SuiteError(f"suite {suite.id}: samples are drawn only for generation suites not graded by a judge")
    config, config_hash = run_settings(suite.sha256, suite.meta, limit, num_fewshot, samples)
    k = config["num_fewshot"]
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
        done, failed = set(), {}
        for result_id, item_id, metrics in session.execute(
                select(db.Result.id, db.Result.item_id, db.Result.metrics).where(db.Result.run_id == run_id)):
            if metrics:
                done.add(item_id)
            else:
                failed[item_id] = result_id
    todo = [item for item in chosen if item_ids[item["id"]] not in done]
    if on_items and len(chosen) - len(todo):
        on_items(len(chosen) - len(todo))
    if todo:
        sandbox = find_sandbox(unsafe=unsafe_code) if suite.meta.get("scorer") == "code" else None
        model_backend = backend()
        judge_backend = judge() if judge is not None and suite.meta.get("scorer") == "rubric" else None
        before, mode = _usage(model_backend), _mode(suite, model_backend)
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start:start + CHUNK]
            mode, scored = _score_chunk(suite, chunk, model_backend, k, mode, judge_backend, sampling=sampling,
                                        sandbox=sandbox)
            with sessions.begin() as session:
                if sandbox is not None:  # which tool ran the programs: a run's setting, not its identity
                    run = session.get(db.Run, run_id)
                    run.config = {**run.config, "sandbox": sandbox.tool}
                for item, (metrics, detail) in zip(chunk, scored):
                    item_id = item_ids[item["id"]]
                    if item_id in failed:
                        row = session.get(db.Result, failed.pop(item_id))
                        row.metrics, row.detail = metrics, detail
                    else:
                        session.add(db.Result(run_id=run_id, item_id=item_id, metrics=metrics, detail=detail))
                after = _usage(model_backend)
                _add_usage(session.get(db.Run, run_id), before, after)
                before = after
            if on_items:
                on_items(len(chunk))
    with sessions.begin() as session:
        run = session.get(db.Run, run_id)
        if run.status != "finished" or todo:
            append(session, "run finished", f"{model.name}/{suite.id}",
                   {"run": run_id, "model": model.name, "suite": suite.id, "config_hash": run.config_hash,
                    "results_sha256": results_sha256(session, run_id)})
        run.status, run.finished_at = "finished", run.finished_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
        summary = summarise(session, run_id)
    return RunOutcome(run_id, len(chosen) - len(todo), len(todo), summary)


def results_sha256(session: Session, run_id: int) -> str:
    """The SHA-256 of a run's per-item results (item id, metrics) in item order, as canonical JSON."""
    rows = session.execute(select(db.Item.key, db.Result.metrics).join(db.Item, db.Item.id == db.Result.item_id)
                           .where(db.Result.run_id == run_id).order_by(db.Item.position)).all()
    return hashlib.sha256(canonical_json([[key, metrics] for key, metrics in rows])).hexdigest()


def summarise(session: Session, run_id: int) -> dict:
    """Each metric's mean, standard errors (closed form and bootstrap) and n over the run's scored items;
    how the scores were obtained (`method`), how many items failed, and the backend's token usage."""
    rows = session.execute(select(db.Result.metrics, db.Result.detail).where(db.Result.run_id == run_id)).all()
    scored = [metrics for metrics, _ in rows if metrics]
    methods = sorted({(detail or {}).get("method") or (detail or {}).get("source") or "" for metrics, detail in rows
                      if metrics} - {""})
    out: dict = {"n": len(scored), "failed": len(rows) - len(scored),
                 "method": methods[0] if len(methods) == 1 else "mixed" if methods else None}
    for metric in sorted({m for r in scored for m in r}):
        values = [float(r[metric]) for r in scored if metric in r]
        out[metric] = {"mean": sum(values) / len(values), "stderr": stats.stderr_closed(values),
                       "stderr_bootstrap": stats.stderr_bootstrap(values, rounds=1000, seed=0), "n": len(values)}
    run = session.get(db.Run, run_id)
    if run is not None and run.config.get("usage"):
        out["usage"] = dict(run.config["usage"])
    return out


# The unit of work a distributed evaluation hands its replicas (dokja.cluster), under public names.
score_chunk, scoring_mode, backend_usage = _score_chunk, _mode, _usage


def score_answer(suite_id: str, meta: dict, item: dict, answer: str) -> Scored | None:
    """An answer's metrics recomputed from the stored text alone, as `dokja verify` does from a bundle; None
    for what needs more than the text: code (the sandbox), a judge's grade (the judge), a letter (the choices)."""
    scorer = meta.get("scorer", "exact_match")
    if scorer in ("code", "rubric", "letter", "agent") or meta.get("kind") != "generate":
        return None
    (metrics, detail), _ = _score_text(Suite(suite_id, meta, []), item, answer, scorer, None)
    return metrics, detail
