"""SIGKILL a running `dokja eval` at random (seeded) moments, restart it, and again: it resumes, finishes, and
every item is scored exactly once with the same scores as an uninterrupted run; the audit log verifies."""

from __future__ import annotations

import random
import subprocess
import time

from sqlalchemy import create_engine, text

KILLS = 6
SUITES = ("kobest_copa", "kobest_boolq")
N_ITEMS = 100 * len(SUITES)

PROGRAMME = """
name = "Crash programme"

[[stages]]
id = "stage-1"
name = "Stage 1"
date = 2026-06-30
keep = 1

[suites]
ministry = ["kobest_copa"]
global_common = ["kobest_boolq"]

[[teams]]
id = "hanbit"
name = "Team Hanbit"
members = [{{ name = "Kim", role = "student" }}]

[[models]]
name = "hanbit-tiny"
location = "{model}"
team = "hanbit"
"""

SCORES = """
SELECT m.name, s.key, i.key, r.metrics FROM result r JOIN run ON run.id = r.run_id JOIN model m ON m.id = run.model_id
JOIN suite s ON s.id = run.suite_id JOIN item i ON i.id = r.item_id ORDER BY m.name, s.key, i.position
"""


def scores(url: str) -> list[tuple]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(SCORES))]
    engine.dispose()
    return rows


def count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM result")).scalar_one()
    except Exception:  # not created yet, or locked for a moment by the writer
        return -1
    finally:
        engine.dispose()


def new_store(folder, model, cache):
    """A store holding the programme, as `dokja init` leaves it."""
    from dokja.programme import load_programme
    from dokja.registry import import_programme
    from dokja.store import open_store

    folder.mkdir()
    path = folder / "programme.toml"
    path.write_text(PROGRAMME.format(model=model), encoding="utf-8")
    url = f"sqlite:///{folder / 'dokja.db'}"
    sessions = open_store(url)
    with sessions.begin() as session:
        import_programme(session, load_programme(path), path.read_text(encoding="utf-8"), cache=cache)
    return sessions, url


def evaluate(url: str, cache, dokja) -> subprocess.Popen:
    return dokja("eval", "--db", url, "--cache", str(cache), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killed_evaluation_resumes_and_scores_every_item_once(tmp_path, tiny_model, cache, dokja, audit_problems,
                                                               evaluate_stage):
    whole, reference = new_store(tmp_path / "whole", tiny_model, cache)
    evaluate_stage(whole, cache)  # the uninterrupted run, in this process
    expected = scores(reference)
    assert len(expected) == N_ITEMS

    rng = random.Random(7)
    kills, seen, stores = 0, [], 0
    url = None
    while kills < KILLS:
        done = max(count(url), 0) if url else N_ITEMS
        if done >= N_ITEMS - 16:  # too near the end to land a kill mid-run (a tiny model is fast): a new store
            stores += 1
            _, url = new_store(tmp_path / f"killed{stores}", tiny_model, cache)
            seen, done = [], 0
        room = max(1, (N_ITEMS - done) // (KILLS - kills + 1))  # leave room for the kills still to come
        target = done + 1 + rng.randrange(room)  # mid-run, never at the end
        proc = evaluate(url, cache, dokja)
        deadline = time.monotonic() + 120
        while count(url) < target and proc.poll() is None:
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.01))
        proc.kill()
        proc.wait()
        after = count(url)
        if after >= N_ITEMS:  # it finished before the kill landed: not a kill
            assert proc.returncode == 0, proc.stderr.read()
            continue
        kills += 1
        seen.append(after)
    last = evaluate(url, cache, dokja)
    assert last.wait(timeout=300) == 0, last.stderr.read()
    got = scores(url)
    print(f"\nevaluation kills {kills} ({stores} store(s)), items stored after each kill of the last store {seen}, "
          f"items scored {len(got)}")
    assert seen == sorted(seen) and seen and seen[-1] < N_ITEMS
    assert len({row[:3] for row in got}) == len(got) == N_ITEMS  # every item once, none twice
    assert got == expected
    assert audit_problems(url) == []
