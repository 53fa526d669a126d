"""Rigged votes in the arena: how far a campaign moves its target, and what each defence takes back.

    python benchmarks/arena_rigging.py            # the published seed, 6,000 honest votes, 300 rigged
    python benchmarks/arena_rigging.py --seed 7   # another draw

Honest visitors (600, ten votes each, over 14 days and 2,000 networks) vote on eight models of
known strengths; a campaign casts 300 votes for ``model-2`` (the third weakest) in the battles where
it faces it. Four campaigns: one vote per made-up visitor from three /24s within two hours; the same
from 300 /24s (one visitor each, as rented proxies give); the three /24s over a week; and ten votes
per visitor. Defences: none, the honesty flags (per visitor, favourite model, per subnet), the
per-address and per-subnet budgets, proof of work (the site's difficulty, with the solves one CPU
core can do in an hour, measured here with OpenSSL's SHA-256; and a campaign limited to 20 solves an
hour, as a browser farm would be), and flags, budgets and the 20-solve work together. The shift
is the target's rating (Elo-like) and user points (of 25) with the campaign minus without, under
the same defence. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import time

from dokja.arena.budgets import NEW_VISITORS, VOTES
from dokja.arena.challenge import DIFFICULTY, issue, solve
from dokja.arena.rigging import Campaign, Defences, Honest, simulate

SEED = 20251230
CAMPAIGNS = {
    "few networks, 2 h": Campaign(),
    "300 networks, 2 h": Campaign(subnets=300),
    "few networks, a week": Campaign(hours=24 * 7),
    "10 votes a visitor": Campaign(per_visitor=10),
}


def hashes_per_second(seconds: float = 2.0) -> float:
    """SHA-256 evaluations per second on one core, as the solver does them."""
    challenge = issue(b"benchmark", "v", 0.0, 64)
    start, tried = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        try:
            solve(challenge.token, 64, start=tried, limit=100_000)
        except ValueError:
            tried += 100_000
    return tried / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    rate = hashes_per_second()
    per_core_hour = rate * 3600 / 2 ** DIFFICULTY
    print(f"proof of work: {rate / 1e6:.2f} M SHA-256/s on one core; difficulty {DIFFICULTY} bits "
          f"= {per_core_hour:,.0f} solves per core-hour")
    defences = {"none": Defences(), "flags": Defences(flags=True), "budgets": Defences(budgets=(NEW_VISITORS, VOTES)),
                "work, one core": Defences(solves_per_hour=per_core_hour),  # this solver; native code is faster
                "work, 20 solves/h": Defences(solves_per_hour=20.0),
                "all": Defences(flags=True, budgets=(NEW_VISITORS, VOTES), solves_per_hour=20.0)}
    result = {"seed": args.seed, "honest_votes": Honest().votes, "campaign_votes": Campaign().votes,
              "difficulty": DIFFICULTY, "sha256_per_s": round(rate), "solves_per_core_hour": round(per_core_hour)}
    start = time.perf_counter()
    for name, campaign in CAMPAIGNS.items():
        print(f"\n{name}\n  {'defence':<18} {'Elo':>7} {'points':>7} {'counted':>8} {'honest lost':>12}")
        table = {}
        for s in simulate(Honest(), campaign, defences, seed=args.seed):
            print(f"  {s.defence:<18} {s.rating:>+7.1f} {s.points:>+7.2f} "
                  f"{s.campaign_counted:>8} {s.honest_lost:>12}")
            table[s.defence] = {"elo": round(s.rating, 1), "points": round(s.points, 2),
                                "counted": s.campaign_counted, "honest_lost": s.honest_lost}
        result[name] = table
    result["simulation_s"] = round(time.perf_counter() - start, 1)
    print("RESULT " + json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
