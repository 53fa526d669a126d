"""A killed evaluation resumes: finished items are kept and never recomputed."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

WORKER = """
import json, sys
from pathlib import Path
from dokja.harness import evaluate, load_suite
from dokja.models import open_backend
from dokja.registry import add_model
from dokja.store import open_store
db, suite_dir, model_dir = sys.argv[1:4]
sessions = open_store(db)
with sessions.begin() as s:
    model = add_model(s, "smol", model_dir)
out = evaluate(sessions, model, load_suite(suite_dir), lambda: open_backend(model_dir))
print(json.dumps({"done_before": out.done_before, "computed": out.computed, "n": out.summary["n"]}))
"""


def make_suite(path, n=48):
    path.mkdir()
    (path / "suite.toml").write_text('id = "largest"\ntitle_en = "Largest number"\nlanguage = "en"\n'
                                     'category = "math"\nkind = "multiple_choice"\nmetric = "acc"\n')
    lines = []
    for i in range(n):
        nums = [str(10 + (i * 7 + k * 13) % 90) for k in range(4)]
        lines.append(json.dumps({"id": f"q{i}", "context": f"Question: Which is the largest: {', '.join(nums)}?"
                                 "\nAnswer:", "choices": nums, "answer": max(range(4), key=lambda k: int(nums[k]))}))
    (path / "items.jsonl").write_text("\n".join(lines) + "\n")


def rows(db):
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("select id, item_id, created_at, metrics from result").fetchall())


def test_killed_run_resumes_without_recomputing(tmp_path, smollm2_dir):
    db, suite = tmp_path / "dokja.db", tmp_path / "suite"
    make_suite(suite)
    args = [sys.executable, "-c", WORKER, str(db), str(suite), str(smollm2_dir)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                if rows(db):
                    break
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = rows(db)
    assert 0 < len(before) < 48
    again = subprocess.run(args, capture_output=True, text=True, check=True)
    outcome = json.loads(again.stdout.strip().splitlines()[-1])
    assert outcome == {"done_before": len(before), "computed": 48 - len(before), "n": 48}
    after = rows(db)
    assert after[: len(before)] == before
    assert len({r[1] for r in after}) == 48
