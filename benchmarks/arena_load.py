"""Votes per second the arena server sustains, with latency percentiles, and no acknowledged vote lost.

Starts `dokja serve` on loopback in its own process over a fresh SQLite store, writes finished
battles straight into the store (one per vote to come, each owned by its own visitor), then
drives votes for ``--seconds`` from a fixed number of keep-alive connections (so
the load is bounded) using a lean asyncio HTTP/1.1 client, so the client costs little of the
machine. Afterwards it counts the votes in the store and compares them with the votes the server
acknowledged (HTTP 200). Rate limits are raised for the run: every vote comes from one address.

    .venv/bin/python benchmarks/arena_load.py [--seconds 25] [--rate 1200] [--connections 64]

By default the votes are offered at a fixed 1,200 a second (latency counted from when each was
due); ``--rate 0`` drives the server as fast as it answers, to find its ceiling.
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
from pathlib import Path

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_battles(url: str, n: int) -> list[tuple[str, str]]:
    """n finished battles among 8 models, each with its own visitor: (battle key, visitor token)."""
    from sqlalchemy import insert, select

    from dokja.arena.tables import Answer, Battle, Visitor, utcnow
    from dokja.store import open_store

    sessions = open_store(url)
    models = [f"model-{k}" for k in range(8)]
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(models), size=(n, 2))
    pairs[:, 1] = (pairs[:, 0] + 1 + rng.integers(0, len(models) - 1, size=n)) % len(models)
    tokens = [secrets.token_urlsafe(24) for _ in range(n)]
    keys = [secrets.token_hex(16) for _ in range(n)]
    now = utcnow()
    with sessions.begin() as session:
        session.execute(insert(Visitor), [{"token": t, "address": "127.0.0.1"} for t in tokens])
        ids = dict(session.execute(select(Visitor.token, Visitor.id)).all())
        session.execute(insert(Battle), [
            {"key": k, "visitor_id": ids[t], "prompt": f"prompt {i}", "model_a": models[pairs[i, 0]],
             "model_b": models[pairs[i, 1]], "probability": 1 / 28, "weight": 1.0, "category": "general",
             "language": "en", "created_at": now} for i, (k, t) in enumerate(zip(keys, tokens))])
        bids = dict(session.execute(select(Battle.key, Battle.id)).all())
        session.execute(insert(Answer), [
            {"battle_id": bids[k], "side": side, "text": f"answer {side}", "finished": True, "tokens": 2,
             "reveals_identity": False, "finished_at": now} for k in keys for side in ("a", "b")])
    sessions.kw["bind"].dispose()
    return list(zip(keys, tokens))


async def connection(port: int, work: list, deadline: float, out: dict, pace: tuple[float, float, int] | None
                     ) -> None:
    """Send votes one after another on one keep-alive connection.

    With ``pace`` = (start, rate, index) votes are due on a fixed schedule (an open loop: this
    connection's share of ``rate`` votes/s), and latency counts from when a vote was due, so a
    stalled server cannot hide its backlog; without it each vote follows the previous answer.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    outcomes = ("a", "b", "tie", "both_bad")
    sent = 0
    try:
        while work and time.perf_counter() < deadline:
            if pace:
                begin, rate, (index, stride) = pace[0], pace[1], pace[2]
                due = begin + (sent * stride + index) / rate
                sent += 1
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            key, token = work.pop()
            body = json.dumps({"outcome": outcomes[len(work) % 4]}).encode()
            request = (f"POST /api/battles/{key}/vote HTTP/1.1\r\nhost: 127.0.0.1\r\n"
                       f"cookie: dokja_visitor={token}\r\ncontent-type: application/json\r\n"
                       f"content-length: {len(body)}\r\n\r\n").encode() + body
            start = due if pace else time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            out["latency"].append(time.perf_counter() - start)
            status = int(head.split(b" ", 2)[1])
            out["status"][status] = out["status"].get(status, 0) + 1
            if status == 200:
                out["acked"].add(key)
    finally:
        writer.close()


async def drive(port: int, battles: list, seconds: float, connections: int, rate: float = 0.0) -> dict:
    out = {"latency": [], "status": {}, "acked": set()}
    work = list(battles)
    start = time.perf_counter()
    deadline = start + seconds

    def pace(k):
        return (start + 0.05, rate, (k, connections)) if rate > 0 else None
    await asyncio.gather(*(connection(port, work, deadline, out, pace(k)) for k in range(connections)))
    out["elapsed"] = time.perf_counter() - start
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    import httpx

    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=1200.0,
                        help="votes/s offered on a fixed schedule; 0 for as fast as the server answers")
    parser.add_argument("--battles", type=int, default=80_000)
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()

    try:
        import uvloop  # the client's own loop should cost the machine as little as possible

        uvloop.install()
    except ImportError:
        pass
    tmp = Path(tempfile.mkdtemp(prefix="dokja-arena-load-"))
    url = f"sqlite:///{tmp / 'arena.db'}"
    t0 = time.perf_counter()
    battles = seed_battles(url, args.battles)
    seeded_s = time.perf_counter() - t0
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TQDM_DISABLE="1")
    proc = subprocess.Popen([sys.executable, "-c", "from dokja.cli import app; app()", "serve", "--port", str(port),
                             "--db", url, "--votes-per-minute", "1000000000", "--per-address", "1000000000",
                             "--cache", str(tmp)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port, proc)
        warm = battles[: 2000]
        rest = battles[2000:]
        asyncio.run(drive(port, warm, args.warmup, args.connections))
        cpu0 = cpu_seconds(proc.pid)
        result = asyncio.run(drive(port, rest, args.seconds, args.connections, args.rate))
        server_cpu = cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM arena_vote")).scalar_one()
        keys = {k for (k,) in conn.execute(text(
            "SELECT b.key FROM arena_vote v JOIN arena_battle b ON b.id = v.battle_id"))}
    warm_acked = len(keys - result["acked"])
    lost = len(result["acked"] - keys)
    lat = np.array(result["latency"]) * 1000
    n = len(lat)
    report = {
        "votes_sent": n, "acked": len(result["acked"]), "seconds": round(result["elapsed"], 2),
        "votes_per_s": round(n / result["elapsed"], 1), "p50_ms": round(float(np.percentile(lat, 50)), 2),
        "p99_ms": round(float(np.percentile(lat, 99)), 2), "max_ms": round(float(lat.max()), 2),
        "connections": args.connections, "offered_per_s": args.rate or None, "status": {str(k): v for k, v in sorted(result["status"].items())},
        "stored_votes": stored, "warmup_votes": warm_acked, "lost": lost, "cpus": os.cpu_count(),
        "server_cpu_ms_per_vote": round(1000 * server_cpu / max(n, 1), 3),
        "load_average_1m": round(os.getloadavg()[0], 2), "seed_battles_s": round(seeded_s, 1),
        "durability": "sqlite WAL, synchronous=FULL, group commit",
    }
    print(f"{n} votes in {result['elapsed']:.1f} s: {report['votes_per_s']} votes/s, p50 {report['p50_ms']} ms, "
          f"p99 {report['p99_ms']} ms; {stored} votes stored, {lost} acknowledged votes lost")
    print("RESULT " + json.dumps(report))


if __name__ == "__main__":
    main()
