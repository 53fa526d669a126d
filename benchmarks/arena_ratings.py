"""Arena ratings at scale: Dokja against the published reference method, timed in one run.

    python benchmarks/arena_ratings.py            # 10M votes, 100 models, 1,000 rounds
    python benchmarks/arena_ratings.py --votes 1000000 --ref-rounds 10   # a quick look

Synthetic votes come from a Davidson model with known strengths, ν set so that 30% of
votes are ties, pairs drawn uniformly (fixed seed). Timed, from the vote arrays in
memory: (a) Dokja: cells, half-win fit, sandwich intervals and bootstrap intervals
(also the Davidson pipeline, reported separately); (b) the reference in
``arena_reference.py``: unique rows, L-BFGS-B fit, bootstrap refits in a process pool,
run for fewer rounds and scaled linearly to the same count (the process pool's
start-up counted once). BLAS threads are set to 1
for both (each method parallelises with its own ``--workers``). The last line is
``RESULT {json}``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import arena_reference as reference  # noqa: E402

from dokja.arena import SCALE, aggregate, bootstrap, fit, sandwich  # noqa: E402


def tie_nu(d: np.ndarray, share: float) -> float:
    """ν giving the wanted expected tie share over the pair differences ``d`` (bisection on log ν)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        nu = np.exp(mid)
        lo, hi = (mid, hi) if np.mean(nu / (2 * np.cosh(d / 2) + nu)) < share else (lo, mid)
    return float(np.exp((lo + hi) / 2))


def synthetic(votes: int, models: int, share: float, seed: int):
    """Votes (a, b, outcome) under Davidson with strengths θ ~ N(0, 0.8²) nats (about 140 Elo SD)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 0.8, models)
    i, j = np.triu_indices(models, 1)
    nu = tie_nu(theta[i] - theta[j], share)
    a = rng.integers(0, models, votes)
    b = (a + rng.integers(1, models, votes)) % models
    outcome = np.empty(votes, np.int8)
    for s in range(0, votes, 1_000_000):
        d = theta[a[s:s + 1_000_000]] - theta[b[s:s + 1_000_000]]
        big = np.exp(d / 2)
        den = big + 1 / big + nu
        u = rng.random(d.size) * den
        outcome[s:s + 1_000_000] = np.where(u < big, 0, np.where(u < big + 1 / big, 1, 2))
    return a, b, outcome, theta, nu


def versus_truth(rating: np.ndarray, theta: np.ndarray) -> tuple[float, float]:
    """Correlation and max |error| (Elo points) of centred ratings against the centred truth."""
    est, true = rating - rating.mean(), SCALE * (theta - theta.mean())
    return float(np.corrcoef(est, true)[0, 1]), float(np.abs(est - true).max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--votes", type=int, default=10_000_000)
    ap.add_argument("--models", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--ref-rounds", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ties", type=float, default=0.30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    a, b, outcome, theta, nu = synthetic(args.votes, args.models, args.ties, args.seed)
    print(f"{args.votes:,} votes, {args.models} models, {np.mean(outcome == 2):.1%} ties (true ν = {nu:.3f}), "
          f"{args.rounds} rounds, {args.workers} workers, cpus {os.cpu_count()}")

    t0 = time.perf_counter()
    cells = aggregate(a, b, outcome)
    t1 = time.perf_counter()
    point = fit(cells)
    sw = sandwich(cells, point)
    t2 = time.perf_counter()
    boot = bootstrap(cells, rounds=args.rounds, point=point, workers=args.workers, seed=args.seed)
    t3 = time.perf_counter()
    dokja_s = t3 - t0
    print(f"Dokja half-win : {dokja_s:.2f} s (cells {t1 - t0:.2f}, fit+sandwich {t2 - t1:.2f}, "
          f"bootstrap {t3 - t2:.2f}); median SE bootstrap/sandwich {np.median(boot.se / sw.se):.3f}")

    t4 = time.perf_counter()
    dav = fit(cells, ties="davidson")
    dsw = sandwich(cells, dav)
    dboot = bootstrap(cells, rounds=args.rounds, point=dav, workers=args.workers, seed=args.seed)
    davidson_s = (t1 - t0) + time.perf_counter() - t4
    dav_cover = float(np.mean(np.abs(dav.rating - dav.rating.mean() - SCALE * (theta - theta.mean()))
                              <= 1.96 * dsw.se))
    print(f"Dokja Davidson : {davidson_s:.2f} s; ν̂ = {dav.nu:.4f} (95% {dboot.nu_lower:.4f}–{dboot.nu_upper:.4f}); "
          f"sandwich 95% intervals cover {dav_cover:.0%} of true strengths")

    r0 = time.perf_counter()
    matchups, outcomes, weights = reference.preprocess(a, b, outcome)
    r1 = time.perf_counter()
    ref_raw = reference.fit(matchups, outcomes, weights, args.models)
    r2 = time.perf_counter()
    reference.bootstrap(matchups, outcomes, weights, args.models, args.ref_rounds, workers=args.workers)
    r3 = time.perf_counter()
    # the pool's start-up is paid once: time it alone and scale only the rest
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(abs, range(args.workers)))
    startup = time.perf_counter() - r3
    per_round = max(r3 - r2 - startup, 0.0) / args.ref_rounds
    boot_scaled = startup + per_round * args.rounds
    ref_measured = r3 - r0
    ref_scaled = (r2 - r0) + boot_scaled
    ref_rating = reference.to_rating(ref_raw)
    print(f"Reference      : {ref_measured:.2f} s measured with {args.ref_rounds} rounds (rows {r1 - r0:.2f}, "
          f"fit {r2 - r1:.2f}, bootstrap {r3 - r2:.2f}: pool start {startup:.2f} + {per_round * 1e3:.1f} ms a round); "
          f"{ref_scaled:.1f} s scaled linearly to {args.rounds} rounds (bootstrap {boot_scaled:.1f})")

    diff = float(np.abs(point.rating - ref_rating).max())
    d_corr, d_err = versus_truth(point.rating, theta)
    r_corr, r_err = versus_truth(ref_rating, theta)
    v_corr, v_err = versus_truth(dav.rating, theta)
    boot_ratio = boot_scaled / (t3 - t2)
    print(f"Speed-up {ref_scaled / dokja_s:.1f}x end to end ({boot_ratio:.1f}x on the bootstrap alone); "
          f"largest point-rating difference Dokja vs reference {diff:.4f} Elo")
    print(f"vs truth (corr, max |err| Elo): Dokja half {d_corr:.5f}, {d_err:.1f}; reference {r_corr:.5f}, {r_err:.1f}; "
          f"Dokja Davidson {v_corr:.5f}, {v_err:.1f}  (half-win shrinks the scale when ties are frequent)")
    result = {
        "votes": args.votes, "models": args.models, "rounds": args.rounds, "workers": args.workers,
        "tie_share": round(float(np.mean(outcome == 2)), 4), "nu_true": round(nu, 4), "nu_hat": round(dav.nu, 4),
        "dokja_s": round(dokja_s, 3), "dokja_davidson_s": round(davidson_s, 3),
        "reference_s_scaled": round(ref_scaled, 2), "reference_s_measured": round(ref_measured, 2),
        "reference_rounds_run": args.ref_rounds, "reference_rows_s": round(r1 - r0, 2),
        "reference_bootstrap_s_scaled": round(boot_scaled, 2), "dokja_bootstrap_s": round(t3 - t2, 3),
        "speedup": round(ref_scaled / dokja_s, 1), "speedup_bootstrap": round(boot_ratio, 1),
        "max_rating_diff_elo": round(diff, 5),
        "dokja_corr": round(d_corr, 6), "dokja_max_err_elo": round(d_err, 2),
        "reference_corr": round(r_corr, 6), "reference_max_err_elo": round(r_err, 2),
        "davidson_corr": round(v_corr, 6), "davidson_max_err_elo": round(v_err, 2),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
