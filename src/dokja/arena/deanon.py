"""Can a voter tell which model wrote an answer? A blind arena is only blind if the answers carry no tell.

A campaign for one model needs to recognise its answers. This check trains a small classifier on the
stored answers (multinomial logistic regression on hashed character n-grams, numpy and scipy; naive Bayes
was tried first and drowned a signature phrase in the noise of everything else an answer says) and measures, by
stratified k-fold cross-validation, how often it names the model that wrote a held-out answer. Chance is
1 / the number of models; an accuracy above the warning line (`warning_line`: more than half, and more than
twice chance, or halfway from chance to certain where twice chance is out of reach; and surely above chance)
is a warning: the answers give their model away, and votes can be aimed. The n-grams that most
set each model apart are reported with it, so a team can be told what its tell is.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .errors import ArenaError

__all__ = ["Authored", "Deanon", "deanon_check", "ngram_buckets", "warning_line"]

_BITS = 18
_MULT = np.uint64(0x9E3779B97F4A7C15)
_STEP = np.uint64(0x100000001B3)


@dataclass(frozen=True)
class Authored:
    """One stored answer and the model that wrote it."""

    model: str
    text: str


@dataclass(frozen=True)
class Deanon:
    """How well answers give their model away. ``per_model`` is each model's recall (share of its answers
    named correctly); ``tells`` the most telling n-grams of each model recognised
    above the warning line; ``pvalue`` the binomial chance of an
    accuracy this high were the classifier guessing."""

    accuracy: float
    chance: float
    answers: int
    folds: int
    pvalue: float
    per_model: dict[str, float]
    tells: dict[str, list[str]]
    warning: str | None

    @property
    def line(self) -> float:
        """The accuracy a warning needs (see `warning_line`)."""
        return warning_line(self.chance)


def _codes(text: str) -> np.ndarray:
    text = " " + unicodedata.normalize("NFKC", text) + " "
    return np.frombuffer(text.encode("utf-32-le"), np.uint32).astype(np.uint64)


def ngram_buckets(text: str, sizes: Sequence[int] = (1, 2, 3, 4), bits: int = _BITS) -> np.ndarray:
    """The hashed buckets (0 … 2**bits − 1) of every character n-gram of the text, one per occurrence."""
    codes = _codes(text)
    out = []
    with np.errstate(over="ignore"):
        for n in sizes:
            if codes.size < n:
                continue
            h = np.full(codes.size - n + 1, np.uint64(n))
            for k in range(n):
                h = (h * _STEP) ^ codes[k:codes.size - n + 1 + k]
            out.append((h * _MULT) >> np.uint64(64 - bits))
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


def _folds(labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Fold number per answer, each model's answers dealt round the folds in a shuffled order."""
    fold = np.empty(labels.size, np.int64)
    for c in np.unique(labels):
        where = rng.permutation(np.flatnonzero(labels == c))
        fold[where] = np.arange(where.size) % k
    return fold


def _matrix(grams: list[np.ndarray], columns: np.ndarray):
    """Which of ``columns`` (sorted buckets) each answer contains, each row scaled to unit length."""
    import scipy.sparse as sparse

    rows, cols = [], []
    for i, g in enumerate(grams):
        present = np.unique(g)
        at = np.searchsorted(columns, present)
        hit = at < columns.size
        hit[hit] = columns[at[hit]] == present[hit]
        rows.append(np.full(int(hit.sum()), i))
        cols.append(at[hit])
    r, c = np.concatenate(rows), np.concatenate(cols)
    x = sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(len(grams), columns.size))
    norm = np.sqrt(np.asarray(x.sum(1)).ravel())
    return sparse.diags(1.0 / np.maximum(norm, 1.0)) @ x


def _fit(x, labels: np.ndarray, n_models: int, l2: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, L2-penalised, by L-BFGS: weights (features × models) and intercepts."""
    from scipy.optimize import minimize

    n, d = x.shape
    target = np.eye(n_models)[labels]

    def loss(w):
        weights, bias = w[:-n_models].reshape(d, n_models), w[-n_models:]
        z = x @ weights + bias
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = (p - target) / n
        value = -np.log(p[np.arange(n), labels] + 1e-300).mean() + 0.5 * l2 * float((weights * weights).sum())
        return value, np.concatenate([(x.T @ g + l2 * weights).ravel(), g.sum(0)])

    found = minimize(loss, np.zeros(d * n_models + n_models), jac=True, method="L-BFGS-B",
                     options={"maxiter": 300})
    return found.x[:-n_models].reshape(d, n_models), found.x[-n_models:]


def warning_line(chance: float) -> float:
    """The accuracy above which answers give their model away: more than half, and twice chance, or halfway
    from chance to certain where twice chance cannot be reached (two models: 75%)."""
    return max(min(2 * chance, (1 + chance) / 2), 0.5)


def deanon_check(answers: Sequence[Authored], *, folds: int = 5, seed: int = 0, l2: float = 1e-2,
                 per_model: int | None = 1000, tells: int = 5) -> Deanon:
    """Cross-validated accuracy of naming each answer's model, against chance, with a warning when high.

    At most ``per_model`` answers of each model are used (a seeded draw), which keeps the check to
    seconds on a large store; ``l2`` is the regression's penalty.
    """
    rng = np.random.default_rng(seed)
    answers = _sample(answers, per_model, rng)
    models = sorted({a.model for a in answers})
    if len(models) < 2:
        raise ArenaError("the identity check needs answers from at least two models")
    labels = np.array([models.index(a.model) for a in answers], np.int64)
    fewest = int(np.bincount(labels).min())
    if fewest < 2 or folds < 2:
        raise ArenaError(f"the identity check needs at least 2 answers per model and 2 folds (fewest: {fewest})")
    k = min(folds, fewest)
    grams = [ngram_buckets(a.text) for a in answers]
    fold = _folds(labels, k, rng)
    guess = np.empty_like(labels)
    for f in range(k):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        columns = np.unique(np.concatenate([grams[i] for i in train]))
        weights, bias = _fit(_matrix([grams[i] for i in train], columns), labels[train], len(models), l2)
        guess[test] = np.asarray(_matrix([grams[i] for i in test], columns) @ weights + bias).argmax(1)
    right = guess == labels
    accuracy, chance = float(right.mean()), 1.0 / len(models)
    pvalue = _binomial_tail(int(right.sum()), labels.size, chance)
    recall = {m: float(right[labels == c].mean()) for c, m in enumerate(models)}
    columns = np.unique(np.concatenate(grams))
    weights, _ = _fit(_matrix(grams, columns), labels, len(models), l2)
    found = {m: _tells(weights, columns, c, [a.text for a in answers if a.model == m], tells)
             for c, m in enumerate(models) if recall[m] > warning_line(chance)}
    warning = None
    if accuracy > warning_line(chance) and pvalue < 0.01:
        warning = (f"answers give their model away: {accuracy:.0%} named correctly against {chance:.0%} by chance "
                   f"({labels.size} answers, {k}-fold); votes can be aimed at a model")
    return Deanon(accuracy, chance, int(labels.size), k, pvalue, recall, found, warning)


def _sample(answers: Sequence[Authored], per_model: int | None, rng: np.random.Generator) -> list[Authored]:
    """At most ``per_model`` answers of each model, drawn without replacement, in their stored order."""
    answers = list(answers)
    if per_model is None:
        return answers
    keep = []
    for m in sorted({a.model for a in answers}):
        mine = [i for i, a in enumerate(answers) if a.model == m]
        keep += mine if len(mine) <= per_model else list(rng.choice(mine, per_model, replace=False))
    return [answers[i] for i in sorted(keep)]


def _binomial_tail(successes: int, n: int, p: float) -> float:
    """P(X ≥ successes) for X ~ Binomial(n, p)."""
    from scipy.special import bdtrc

    return 1.0 if successes <= 0 else float(bdtrc(successes - 1, n, p))


def _tells(weights: np.ndarray, columns: np.ndarray, model: int, texts: list[str], top: int) -> list[str]:
    """The n-grams (3 or 4 characters) that most set this model apart from the likeliest other."""
    if top <= 0:
        return []
    lift = np.full(1 << _BITS, -np.inf)
    lift[columns] = weights[:, model] - np.delete(weights, model, axis=1).max(1)
    candidates = np.argsort(-lift)[: 40 * top]
    candidates = candidates[lift[candidates] > 0]
    seen: dict[int, str] = {}
    for text in texts:
        chars = " " + unicodedata.normalize("NFKC", text) + " "
        for n in (4, 3):
            buckets = ngram_buckets(text, (n,))
            for start in np.flatnonzero(np.isin(buckets, candidates)):
                seen.setdefault(int(buckets[start]), chars[start:start + n])
    out: list[str] = []
    for b in sorted(seen, key=lambda b: (-lift[b], seen[b])):
        if len(out) >= top:
            break
        if seen[b].strip() and not any(seen[b] in t or t in seen[b] for t in out):
            out.append(seen[b])
    return out
