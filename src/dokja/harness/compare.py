"""Is the gap between two models real? A paired test over the items both runs scored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store import schema as db
from . import stats
from .suite import SuiteError


def _scores(session: Session, run_id: int, metric: str) -> dict[int, float]:
    rows = session.execute(select(db.Result.item_id, db.Result.metrics).where(db.Result.run_id == run_id))
    return {item_id: float(metrics[metric]) for item_id, metrics in rows if metrics and metric in metrics}


def compare_runs(session: Session, run_a: int, run_b: int, *, metric: str | None = None, alpha: float = 0.05,
                 rounds: int = 10000, seed: int = 0) -> dict:
    """McNemar's exact test for 0/1 scores, a paired bootstrap otherwise (`stats.compare`), on the suite's
    primary metric unless one is named; items only one run scored are counted, not compared."""
    a, b = session.get(db.Run, run_a), session.get(db.Run, run_b)
    for run_id, run in ((run_a, a), (run_b, b)):
        if run is None:
            raise SuiteError(f"no run {run_id}")
    if a.suite_id != b.suite_id:
        raise SuiteError(f"runs {run_a} and {run_b} are on different suites ({a.suite.key}, {b.suite.key})")
    metric = metric or a.suite.metric
    xs, ys = _scores(session, run_a, metric), _scores(session, run_b, metric)
    common = sorted(xs.keys() & ys.keys())
    if not common:
        raise SuiteError(f"runs {run_a} and {run_b} share no item scored on {metric!r}")
    result = stats.compare([xs[i] for i in common], [ys[i] for i in common], alpha=alpha, rounds=rounds, seed=seed)
    result.update(suite=a.suite.key, metric=metric, model_a=a.model.name, model_b=b.model.name, run_a=run_a,
                  run_b=run_b, only_a=len(xs) - len(common), only_b=len(ys) - len(common))
    return result


def latest_run(session: Session, model: str, suite: str) -> db.Run:
    """The model's most recent finished run on the suite."""
    run = session.scalars(select(db.Run).join(db.Model).join(db.Suite).where(
        db.Model.name == model, db.Suite.key == suite, db.Run.status == "finished").order_by(db.Run.id.desc())).first()
    if run is None:
        raise SuiteError(f"model {model!r} has no finished run on suite {suite!r}; run `dokja eval` first")
    return run
