"""Reference arena ratings, benchmark only: the published Bradley–Terry recipe, re-implemented.

Written from the public description of the strongest published arena method: the
votes are reduced to unique (model a, model b, outcome) rows with counts; a tie is the
outcome 0.5 (half a win each); strengths are fitted in base-10 logits by
``scipy.optimize.minimize(method="L-BFGS-B")`` on the weighted log-loss with an
analytic gradient; the bootstrap redraws the row counts from one multinomial over all
votes and refits every round from zero in a process pool. Ratings are
``400 · r + 1000``, shifted so that the anchor model sits at its fixed rating.

Dokja does not use this module; ``benchmarks/arena_ratings.py`` times it for comparison.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit


def preprocess(a, b, outcome):
    """Unique (a, b, outcome) rows and their counts; outcome 1 = a wins, 0 = b wins, 0.5 = tie or both bad."""
    rows = np.empty((len(a), 3), dtype=np.int32)
    rows[:, 0], rows[:, 1] = a, b
    code = np.asarray(outcome)
    rows[:, 2] = np.where(code == 0, 2, np.where(code == 1, 0, 1))
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return unique[:, :2], unique[:, 2] / 2.0, counts.astype(np.float64)


def loss_and_grad(ratings, matchups, outcomes, weights, alpha):
    """Weighted negative log-likelihood of the logistic (Bradley–Terry) model, with gradient."""
    pair = ratings[matchups]
    probs = expit(alpha * (pair[:, 0] - pair[:, 1]))
    loss = -((np.log(probs) * outcomes + np.log1p(-probs) * (1.0 - outcomes)) * weights).sum()
    per_row = -alpha * (outcomes - probs) * weights
    grad = np.zeros_like(ratings)
    np.add.at(grad, matchups, per_row[:, None] * np.array([1.0, -1.0]))
    return loss, grad


def fit(matchups, outcomes, weights, n_models, alpha=math.log(10.0), tol=1e-6):
    """L-BFGS-B from zero, as published (at most 100 iterations, gradient tolerance ``tol``)."""
    result = minimize(loss_and_grad, np.zeros(n_models), args=(matchups, outcomes, weights, alpha), jac=True,
                      method="L-BFGS-B", options={"maxiter": 100, "gtol": tol})
    return result.x


def to_rating(ratings, anchor=0, anchor_value=1000.0, scale=400.0, init=1000.0):
    scaled = scale * np.asarray(ratings) + init
    return scaled + (anchor_value - scaled[..., [anchor]])


def bootstrap(matchups, outcomes, weights, n_models, rounds, workers=2, seed=0, tol=1e-6):
    """Multinomial redraw of all row counts per round; each round refitted in a process pool."""
    total = int(weights.sum())
    draws = np.random.default_rng(seed).multinomial(total, weights / weights.sum(), size=rounds) / total
    job = partial(fit, matchups, outcomes, n_models=n_models, tol=tol)
    with ProcessPoolExecutor(workers) as pool:
        return np.array(list(pool.map(job, draws)))
