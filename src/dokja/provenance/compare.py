"""The statistics of provenance: pure functions over numpy arrays, no files and no database.

Each statistic is built to survive what a copier does to weights: neuron and head permutation (matching by
best match, not by index), norm scales folded into the next matrix (rows are compared after folding), an
orthogonal rotation of the residual stream (the bases are aligned by Procrustes on shared tokens), dropped or
duplicated layers (each layer is matched against every layer of the other model), and drift from
fine-tuning or noise (cosines, not equality).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_SHARED_TOKENS = 32


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(n == 0, 1, n)


def raw_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The statistic that misleads on norm vectors: any two positive vectors near a level score 0.95-0.99."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    d = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / d) if d else float("nan")


def centred_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation: cosine after removing each vector's mean level; NaN when either is constant."""
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    a, b = a - a.mean(), b - b.mean()
    d = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / d) if d > 1e-12 * max(len(a), 1) else float("nan")


def norm_similarity(cand: dict[str, np.ndarray], lib: dict[str, np.ndarray]) -> dict:
    """Each candidate norm vector against every library vector of the same kind and width.

    Returns the median over candidate vectors of the best mean-centred correlation, and the raw cosine of the
    same pairs beside it (shown, never decided on). Constant vectors (norms folded away) give no evidence.
    """
    centred, raw = [], []
    for kind, rows in cand.items():
        other = lib.get(kind)
        if other is None or other.shape[-1] != rows.shape[-1]:
            continue
        for v in np.atleast_2d(rows):
            scores = [(centred_correlation(v, w), raw_cosine(v, w)) for w in np.atleast_2d(other)]
            scores = [s for s in scores if not np.isnan(s[0])]
            if scores:
                best = max(scores)
                centred.append(best[0])
                raw.append(best[1])
    if not centred:
        return {"centred": float("nan"), "raw": float("nan"), "n": 0}
    return {"centred": float(np.median(centred)), "raw": float(np.median(raw)), "n": len(centred)}


def order_agreement(a: np.ndarray, b: np.ndarray, limit: int = 20000) -> dict:
    """How much of two merge lists (or token lists, for tokenizers without merges) agree in order.

    A reused tokenizer keeps its whole merge list, extended or not; independent tokenizers of the same
    languages share many tokens but almost no run of merges in the same places.
    """
    n = min(len(a), len(b), limit)
    if n == 0:
        return {"positional": float("nan"), "prefix": 0, "n": 0}
    same = np.asarray(a[:n]) == np.asarray(b[:n])
    prefix = int(n if same.all() else np.argmin(same))
    return {"positional": float(same.mean()), "prefix": prefix, "n": int(n)}


def _one_thread():
    """Small decompositions run fastest on one thread when the machine is shared."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1)


def procrustes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (semi-)orthogonal R minimising ||a R - b||: a's basis expressed in b's."""
    with _one_thread():
        u, _, vt = np.linalg.svd(np.asarray(a, np.float32).T @ np.asarray(b, np.float32), full_matrices=False)
    return (u @ vt).astype(np.float32)


@dataclass
class Alignment:
    """The map from a candidate's residual basis into a library model's, fitted on shared tokens."""

    rotation: np.ndarray | None
    fit_rotation: np.ndarray | None  # fitted on the even half only, for held-out statistics
    shared: int
    heldout_cosine: float  # mean cosine of held-out shared tokens' embeddings after the map
    cand_index: np.ndarray
    lib_index: np.ndarray


def shared_rows(cand_keys: np.ndarray, lib_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the tokens both models have (keys are hashes of token strings), in library order."""
    pos = {int(k): i for i, k in enumerate(cand_keys)}
    pairs = [(pos[int(k)], j) for j, k in enumerate(lib_keys) if int(k) in pos]
    if not pairs:
        return np.zeros(0, int), np.zeros(0, int)
    ci, li = np.array(pairs).T
    return ci, li


def align(cand_keys, cand_embed, lib_keys, lib_embed) -> Alignment:
    """Procrustes on unit embedding rows of shared tokens; the held-out half says whether it is real."""
    ci, li = shared_rows(cand_keys, lib_keys)
    if len(ci) < MIN_SHARED_TOKENS:
        return Alignment(None, None, len(ci), float("nan"), ci, li)
    a, b = unit_rows(cand_embed[ci]), unit_rows(lib_embed[li])
    fit, test = np.arange(len(ci)) % 2 == 0, np.arange(len(ci)) % 2 == 1
    r_fit = procrustes(a[fit], b[fit])
    held = float(np.mean(np.sum(unit_rows(a[test] @ r_fit) * b[test], axis=1)))
    return Alignment(procrustes(a, b), r_fit, len(ci), held, ci, li)


def rotate_units(units: np.ndarray, rotation: np.ndarray, d: int) -> np.ndarray:
    """Apply the residual map to rows that concatenate one or more d-wide blocks (gate | up)."""
    n = len(units)
    return (np.ascontiguousarray(units, np.float32).reshape(-1, d) @ rotation).reshape(n, -1)


def distinct_matches(lib_units: dict[int, np.ndarray], cand_units: np.ndarray, ratio: float = 1.5) -> dict:
    """Match each library unit (neuron or attention row) to its best candidate unit, pooled over layers.

    A match counts when the best cosine is at least `ratio` times the second best: a copied neuron has one
    unmistakable partner whatever the permutation, an unrelated one only near-ties. Per library layer the
    fraction of distinct matches; the statistic is the mean over as many best library layers as the candidate
    has layers sampled, so a dropped or duplicated layer costs nothing.
    """
    cand = unit_rows(cand_units)
    per_layer, best_cos = {}, []
    for layer, units in lib_units.items():
        if units.shape[-1] != cand.shape[-1] or len(cand) < 2:
            continue
        with _one_thread():
            sims = unit_rows(units) @ cand.T
        top2 = -np.partition(-sims, 1, axis=1)[:, :2]
        hit = top2[:, 0] >= ratio * np.maximum(top2[:, 1], 1e-6)
        per_layer[int(layer)] = (int(hit.sum()), len(units))
        best_cos.append((hit.mean(), float(np.median(top2[:, 0]))))
    best = max(best_cos) if best_cos else (0, float("nan"))
    return {"per_layer": per_layer, "median_best_cosine": best[1]}


def summarise_matches(per_layer: dict[int, tuple[int, int]], layers_sampled: int) -> dict:
    """The mean distinct-match fraction over the best `layers_sampled` library layers, with their counts."""
    if not per_layer:
        return {"fraction": float("nan"), "hits": 0, "trials": 0, "layers": []}
    ranked = sorted(per_layer.items(), key=lambda kv: kv[1][0] / max(kv[1][1], 1), reverse=True)
    top = ranked[:max(1, layers_sampled)]
    hits, trials = sum(h for _, (h, _) in top), sum(n for _, (_, n) in top)
    return {"fraction": hits / trials if trials else float("nan"), "hits": hits, "trials": trials,
            "layers": [k for k, _ in top]}


def match_pvalue(hits: int, trials: int, null_rate: float, looks: int) -> float:
    """Chance of so many distinct matches among unrelated models (binomial at the null rate, Bonferroni for
    choosing the best layers among `looks`)."""
    from scipy.stats import binom

    if trials == 0:
        return 1.0
    p = float(binom.sf(hits - 1, trials, min(max(null_rate, 1e-4), 1.0)))
    return min(1.0, p * max(looks, 1))


def tensor_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """How alike an encoder tensor's sampled rows are to a same-shaped library tensor's: the mean-centred
    correlation as stored (a frozen copy), or the mean best row match when rows were permuted."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape or a.size < 2:
        return float("nan")
    direct = centred_correlation(a, b)
    if a.ndim == 2 and len(a) > 1:
        sims = unit_rows(a - a.mean()) @ unit_rows(b - b.mean()).T
        return float(np.nanmax([direct, float(np.mean(sims.max(axis=1)))]))
    return direct
