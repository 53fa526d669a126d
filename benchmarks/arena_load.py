"""Votes per second through `dokja serve`: N workers over PostgreSQL beside one worker over SQLite, in one run.

For each set-up the store is made fresh and seeded with finished battles among a fixed set of eight contenders
(written straight into the store: no model generates, so the figure is the vote path's), each battle owned by
its own visitor with a token signed by the store's secret. Then `dokja serve` starts on loopback and a bounded
load is driven with httpx: a fixed number of votes over a fixed number of keep-alive connections. Every vote
passes the same checks as on the site (session, shared rate limits, one vote per battle, durable commit);
limits are raised so that none is refused. Afterwards the store's votes are counted against the acknowledged
ones.

    .venv/bin/python benchmarks/arena_load.py [--workers 4] [--votes 4000] [--connections 32]

Ends with one line ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

PG_URL = os.environ.get("DOKJA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MODELS = [f"contender-{k}" for k in range(8)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_schema() -> tuple[str, str]:
    """A fresh schema on the PostgreSQL server, and a URL whose search path is it."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema, f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def seed_battles(url: str, cache: Path, n: int) -> list[tuple[str, str]]:
    """n finished battles among the contenders, each with its own signed visitor: (battle key, token)."""
    from sqlalchemy import insert, select

    from dokja.arena.tables import Answer, Battle, Visitor, utcnow
    from dokja.arena.web.guard import Visitors, load_secret, secret_path
    from dokja.store import open_store

    sessions = open_store(url)
    engine = sessions.kw["bind"]
    visitors = Visitors(load_secret(secret_path(engine.url, cache)))
    rng = np.random.default_rng(0)
    a = rng.integers(0, len(MODELS), size=n)
    b = (a + 1 + rng.integers(0, len(MODELS) - 1, size=n)) % len(MODELS)
    tokens = [visitors.issue() for _ in range(n)]
    keys = [secrets.token_hex(16) for _ in range(n)]
    now = utcnow()
    with sessions.begin() as session:
        session.execute(insert(Visitor), [{"token": t, "address": "127.0.0.1"} for t in tokens])
        ids = dict(session.execute(select(Visitor.token, Visitor.id)).all())
        session.execute(insert(Battle), [
            {"key": k, "visitor_id": ids[t], "prompt": f"prompt {i}", "model_a": MODELS[a[i]], "model_b": MODELS[b[i]],
             "probability": 1 / 28, "weight": 1.0, "category": "general", "language": "en", "created_at": now}
            for i, (k, t) in enumerate(zip(keys, tokens))])
        bids = dict(session.execute(select(Battle.key, Battle.id)).all())
        session.execute(insert(Answer), [
            {"battle_id": bids[k], "side": side, "text": f"answer {side}", "finished": True, "tokens": 2,
             "reveals_identity": False, "finished_at": now} for k in keys for side in ("a", "b")])
    engine.dispose()
    return list(zip(keys, tokens))


def serve(url: str, cache: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TQDM_DISABLE="1")
    proc = subprocess.Popen([sys.executable, "-c", "from dokja.cli import app; app()", "serve", "--port", str(port),
                             "--db", url, "--cache", str(cache), "--workers", str(workers),
                             "--votes-per-minute", "1000000000", "--per-address", "1000000000",
                             "--pow-bits", "0"],  # the vote path's throughput; a browser pays the proof once per visitor
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    end = time.time() + 180
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("server did not start")


async def drive(port: int, battles: list, connections: int) -> dict:
    """Every battle's vote, ``connections`` at a time; latency per vote from send to answer."""
    out = {"latency": [], "status": {}, "acked": set()}
    work = list(battles)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60) as client:
        async def worker():
            while work:
                key, token = work.pop()
                start = time.perf_counter()
                r = await client.post(f"/api/battles/{key}/vote", json={"outcome": "ab"[len(work) % 2]},
                                      headers={"cookie": f"dokja_visitor={token}"})
                out["latency"].append(time.perf_counter() - start)
                out["status"][r.status_code] = out["status"].get(r.status_code, 0) + 1
                if r.status_code == 200:
                    out["acked"].add(key)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        out["elapsed"] = time.perf_counter() - start
    return out


def stored_keys(url: str) -> set[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        keys = {k for (k,) in conn.execute(text("SELECT b.key FROM arena_vote v JOIN arena_battle b ON b.id = v.battle_id"))}
    engine.dispose()
    return keys


def run(url: str, workers: int, votes: int, warmup: int, connections: int) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="dokja-arena-load-"))
    battles = seed_battles(url, cache, votes + warmup)
    proc, port = serve(url, cache, workers)
    try:
        asyncio.run(drive(port, battles[:warmup], connections))
        result = asyncio.run(drive(port, battles[warmup:], connections))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    stored = stored_keys(url)
    lat = np.array(result["latency"]) * 1000
    return {"workers": workers, "votes": len(lat), "seconds": round(result["elapsed"], 2),
            "votes_per_s": round(len(lat) / result["elapsed"], 1), "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2),
            "status": {str(k): v for k, v in sorted(result["status"].items())},
            "lost": len(result["acked"] - stored), "stored": len(stored)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--votes", type=int, default=4000)
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dokja-arena-load-"))
    sqlite = run(f"sqlite:///{folder / 'arena.db'}", 1, args.votes, args.warmup, args.connections)
    schema, url = pg_schema()
    try:
        postgresql = run(url, args.workers, args.votes, args.warmup, args.connections)
    finally:
        drop_schema(schema)
    for name, r in (("SQLite, 1 worker", sqlite), (f"PostgreSQL, {args.workers} workers", postgresql)):
        print(f"{name}: {r['votes']} votes in {r['seconds']} s, {r['votes_per_s']} votes/s, p50 {r['p50_ms']} ms, "
              f"p99 {r['p99_ms']} ms; {r['lost']} acknowledged votes lost")
    print("RESULT " + json.dumps({"cpus": os.cpu_count(), "connections": args.connections, "sqlite": sqlite,
                                  "postgresql": postgresql, "load_average_1m": round(os.getloadavg()[0], 2)}))


if __name__ == "__main__":
    main()
