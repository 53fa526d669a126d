"""Make the demo's arena export: anonymised votes a public arena could have collected for the demo stage.

The demo cannot call on a real public, so its votes are drawn, with a fixed seed, from a Davidson
model (ties included) over strengths written below; everything after this file — flagging rules,
the leaderboard, the points — is Dokja's real code. Run: python scripts/make_demo_votes.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dokja.arena.export import write_votes
from dokja.arena.leaderboard import VoteRecord

OUT = Path(__file__).resolve().parent.parent / "src" / "dokja" / "demo" / "data" / "votes.csv"
# The public's taste, on the Elo-like scale: the references lead, the from-scratch models trail.
STRENGTH = {
    "Gemma 3 270M": 1090, "SmolLM2-135M-Instruct": 1060, "mirae-135m-ko": 1045, "dasan-90m": 985,
    "hanbit-ko-1.0": 965, "saebyeok-ko-0.3": 930,
}
VOTES, TIE_NU, BOTH_BAD_SHARE, FLAGGED_SHARE, REVEALS_SHARE = 4000, 0.6, 0.05, 0.02, 0.01


def main() -> None:
    rng = np.random.default_rng(20251230)
    names = sorted(STRENGTH)
    theta = np.array([STRENGTH[n] for n in names]) * np.log(10) / 400
    votes = []
    for k in range(VOTES):
        i, j = rng.choice(len(names), size=2, replace=False)
        pa, pb = np.exp(theta[i] / 2 - theta[j] / 2), np.exp(theta[j] / 2 - theta[i] / 2)
        pt = TIE_NU
        u = rng.random() * (pa + pb + pt)
        outcome = "a" if u < pa else "b" if u < pa + pb else "tie"
        if outcome == "tie" and rng.random() < BOTH_BAD_SHARE / 0.2:
            outcome = "both_bad"
        language = "ko" if rng.random() < 0.7 else "en"
        category = rng.choice(["general", "general", "general", "math", "coding"])
        votes.append(VoteRecord(
            battle=f"demo-{k:05d}", model_a=names[i], model_b=names[j], outcome=outcome,
            category=str(category), language=language, weight=1.0,
            len_a=int(rng.integers(80, 900)), len_b=int(rng.integers(80, 900)),
            md_a=int(rng.integers(0, 6)), md_b=int(rng.integers(0, 6)),
            flagged=bool(rng.random() < FLAGGED_SHARE), reveals_identity=bool(rng.random() < REVEALS_SHARE)))
    print(f"{write_votes(votes, OUT)} votes → {OUT.name}")


if __name__ == "__main__":
    main()
