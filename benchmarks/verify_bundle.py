"""`dokja verify` on a big stage bundle, against `sha256sum` of the same files in the same run.

Builds a real store with ``--items`` per-item results (10 team models × 10 suites × items/100 items each,
multiple choice with per-choice log-likelihoods, so the verifier re-scores every item), one "run finished"
audit entry per run, and a votes export of ``--votes`` votes among the ten models; decides the stage with the
office verb, writes the signed bundle, then times `verify_bundle` (signature, file hashes, log proofs, every
item checked against the inputs and the log and re-scored, the votes, the decision recomputed to the byte)
and `sha256sum` over the bundle's files extracted to disk. The stage's robustness bootstrap is turned off
(`[robustness] rounds = 0`) so the figure is the verification itself; its cost grows with the rounds.

    .venv/bin/python benchmarks/verify_bundle.py [--items 1000000] [--votes 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path

from sqlalchemy import insert, select

from dokja.arena import write_votes
from dokja.arena.leaderboard import VoteRecord
from dokja.audit import keys
from dokja.audit.log import append
from dokja.bundle import verify_bundle, write_bundle
from dokja.harness.runner import results_sha256, run_settings
from dokja.harness.scoring import multiple_choice
from dokja.programme import Programme
from dokja.registry import import_programme, programme_row, stage_row
from dokja.stage import OfficeFiles, decide_stage
from dokja.stage.record import now_utc
from dokja.store import open_store
from dokja.store import schema as db

TEAMS, SUITES = 10, 10
CHOICES = ["가", "나", "다", "라"]


def programme(n_items: int) -> tuple[Programme, str]:
    suites = [f"bench_s{j}" for j in range(SUITES)]
    teams = "\n".join(f'[[teams]]\nid = "t{i}"\nname = "Team {i}"\nmembers = [{{ name = "K", role = "lead" }}, '
                      f'{{ name = "L", role = "student" }}]' for i in range(TEAMS))
    text = f"""name = "Verify benchmark"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2026-06-30
keep = 5
[suites]
ministry = {json.dumps(suites[:5])}
global_common = {json.dumps(suites[5:])}
[robustness]
rounds = 0
{teams}
[[references]]
name = "Frontier"
vendor = "V"
released = 2026-03-01
scores = {{ {", ".join(f"{s} = 0.6" for s in suites)} }}
"""
    return Programme.model_validate(__import__("tomllib").loads(text)), text


def build_store(url: str, n_items: int, rng: random.Random) -> None:
    """Suites, items, finished runs and their results written straight into the store, as `dokja eval` leaves
    them, with one audit entry per finished run."""
    spec, text = programme(n_items)
    per_suite = n_items // (TEAMS * SUITES)
    sessions = open_store(url)
    with sessions.begin() as s:
        prow = import_programme(s, spec, text)
        srow = stage_row(s, prow, None)
        models = []
        for i in range(TEAMS):
            m = db.Model(name=f"model-{i}", kind="endpoint", location="http://127.0.0.1:9/v1", sha256=None)
            s.add(m)
            s.flush()
            s.add(db.Submission(team_id=s.scalar(select(db.Team.id).where(db.Team.key == f"t{i}")),
                                stage_id=srow.id, model_id=m.id))
            models.append(m)
        for j in range(SUITES):
            key = f"bench_s{j}"
            suite = db.Suite(key=key, title_en=key, language="ko", category="knowledge", kind="multiple_choice",
                             metric="acc", sha256=hashlib.sha256(key.encode()).hexdigest(), meta={})
            s.add(suite)
            s.flush()
            items = [{"suite_id": suite.id, "key": f"{key}-{n}", "position": n,
                      "payload": {"id": f"{key}-{n}", "choices": CHOICES, "answer": n % 4}} for n in range(per_suite)]
            s.execute(insert(db.Item), items)
            item_ids = s.execute(select(db.Item.id, db.Item.position).where(db.Item.suite_id == suite.id)).all()
            config, config_hash = run_settings(suite.sha256, {}, None, None)
            for m in models:
                run = db.Run(model_id=m.id, suite_id=suite.id, config_hash=config_hash, config=config,
                             n_items=per_suite, status="finished")
                s.add(run)
                s.flush()
                rows = []
                for item_id, position in item_ids:
                    lps = [round(-rng.random() * 5, 4) for _ in CHOICES]
                    rows.append({"run_id": run.id, "item_id": item_id,
                                 "metrics": multiple_choice(lps, CHOICES, position % 4),
                                 "detail": {"logprobs": lps, "method": "loglikelihood"}})
                s.execute(insert(db.Result), rows)
                append(s, "run finished", f"{m.name}/{key}", {"run": run.id, "model": m.name, "suite": key,
                                                              "config_hash": config_hash,
                                                              "results_sha256": results_sha256(s, run.id)})


def votes_file(path: Path, n: int, rng: random.Random) -> None:
    strength = [rng.random() for _ in range(TEAMS)]
    votes = []
    for k in range(n):
        a, b = rng.sample(range(TEAMS), 2)
        outcome = "a" if rng.random() < 0.5 + (strength[a] - strength[b]) / 2 else "b"
        votes.append(VoteRecord(f"v{k}", f"model-{a}", f"model-{b}", outcome, language="ko"))
    write_votes(votes, path)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--votes", type=int, default=1_000_000)
    args = ap.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'bench.db'}"
        _, t_store = timed(lambda: build_store(url, args.items, rng))
        votes_file(root / "votes.jsonl", args.votes, rng)
        (root / "expert.csv").write_text("team,expert\n" + "".join(f"t{i},{20 + i}\n" for i in range(TEAMS)))
        sessions = open_store(url)
        (number, _), t_decide = timed(lambda: decide_stage(
            sessions, None, OfficeFiles(expert=root / "expert.csv", votes=root / "votes.jsonl")))
        public = keys.init_key(root / "office.key")
        with sessions.begin() as s:
            row = s.get(db.Decision, number)
            _, t_bundle = timed(lambda: write_bundle(s, row, root / "office.key", root / "bundle.zip",
                                                     time=now_utc()))
        (_, problems), t_verify = timed(lambda: verify_bundle(root / "bundle.zip", public))
        assert problems == [], problems[:5]
        with zipfile.ZipFile(root / "bundle.zip") as z:
            z.extractall(root / "files")
        names = sorted(str(p) for p in (root / "files").iterdir())
        _, t_sha = timed(lambda: subprocess.run(["sha256sum", *names], check=True, capture_output=True))
        size = sum(Path(n).stat().st_size for n in names)
        n_items = sum(1 for _ in open(root / "files" / "items.jsonl", "rb"))
    result = {"items": n_items, "votes": args.votes, "bundle_files_mb": round(size / 2**20, 1),
              "bundle_zip_mb": None, "verify_s": round(t_verify, 2), "sha256sum_s": round(t_sha, 2),
              "verify_over_sha256sum": round(t_verify / t_sha, 1), "decide_s": round(t_decide, 2),
              "write_bundle_s": round(t_bundle, 2), "store_build_s": round(t_store, 1), "robustness_rounds": 0}
    print(f"verify {t_verify:.2f} s vs sha256sum {t_sha:.2f} s of the same {size / 2**20:.0f} MB "
          f"({t_verify / t_sha:.1f}×); decide {t_decide:.1f} s, write bundle {t_bundle:.1f} s")
    result.pop("bundle_zip_mb")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
