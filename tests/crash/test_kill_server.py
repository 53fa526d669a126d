"""SIGKILL `dokja serve` at random (seeded) moments while visitors vote, restart it, and again: every vote the
server acknowledged is in the store with the outcome sent, nothing else is, and the audit log verifies and
only ever grew.

Battles are written straight into the store (what is under test is the vote's way to disk, not generation);
every vote goes over HTTP to the real server on loopback. A vote whose answer was lost to a kill is sent again
after the restart: `already_voted` then says it had been stored, so at the end the client knows the fate of
every vote it sent and the store must agree exactly.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import subprocess
import time

import httpx
from sqlalchemy import create_engine, insert, select, text

KILLS = 14
BATTLES = 1500
WORKERS = 8
OUTCOMES = ("a", "b", "tie", "both_bad")


def seed_battles(url: str, cache, n: int) -> dict[str, str]:
    """n finished battles, each owned by its own signed visitor: battle key → visitor token."""
    from dokja.arena.tables import Answer, Battle, Visitor, utcnow
    from dokja.arena.web.guard import Visitors, load_secret, secret_path
    from dokja.store import open_store

    sessions = open_store(url)
    engine = sessions.kw["bind"]
    visitors = Visitors(load_secret(secret_path(engine.url, cache)))
    tokens = [visitors.issue() for _ in range(n)]
    keys = [secrets.token_hex(16) for _ in range(n)]
    with sessions.begin() as session:
        session.execute(insert(Visitor), [{"token": t, "address": "127.0.0.1"} for t in tokens])
        ids = dict(session.execute(select(Visitor.token, Visitor.id)).all())
        session.execute(insert(Battle), [
            {"key": k, "visitor_id": ids[t], "prompt": f"prompt {i}", "model_a": f"model-{i % 5}",
             "model_b": f"model-{(i + 1 + i // 5 % 4) % 5}", "probability": 0.1, "weight": 1.0,
             "category": "general", "language": "en", "created_at": utcnow()}
            for i, (k, t) in enumerate(zip(keys, tokens))])
        bids = dict(session.execute(select(Battle.key, Battle.id)).all())
        session.execute(insert(Answer), [
            {"battle_id": bids[k], "side": side, "text": f"answer {side}", "finished": True, "tokens": 2,
             "reveals_identity": False, "finished_at": utcnow()} for k in keys for side in ("a", "b")])
    engine.dispose()
    return dict(zip(keys, tokens))


class Voter:
    """Visitors voting over keep-alive connections; remembers what the server said about each vote."""

    def __init__(self, battles: dict[str, str], rng: random.Random):
        self.battles = battles
        self.intended = {key: rng.choice(OUTCOMES) for key in battles}
        self.pending = list(battles)
        self.acked: dict[str, str] = {}      # answered 200: stored, says the server
        self.confirmed: set[str] = set()    # sent again after a kill and found already stored
        self.unanswered: set[str] = set()   # sent, but a kill took the answer
        self.refused: dict[str, int] = {}

    async def worker(self, base: str, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            while self.pending and not stop.is_set():
                key = self.pending.pop()
                outcome = self.intended[key]
                try:
                    response = await client.post(f"/api/battles/{key}/vote", json={"outcome": outcome},
                                                 headers={"cookie": f"dokja_visitor={self.battles[key]}"})
                except httpx.HTTPError:  # the server died under this vote: its fate is asked after the restart
                    self.unanswered.add(key)
                    self.pending.append(key)
                    stop.set()
                    return
                if response.status_code == 200:
                    assert response.json()["outcome"] == outcome
                    self.acked[key] = outcome
                elif response.status_code == 409 and response.json()["error"] == "already_voted":
                    assert key in self.unanswered, "a vote found stored that was never sent"
                    self.confirmed.add(key)
                else:
                    self.refused[key] = response.status_code

    async def vote(self, base: str, proc: subprocess.Popen | None = None, kill_after_s: float = 0.0) -> None:
        """Vote until `proc` is killed `kill_after_s` from now, or (without `proc`) until every vote is in."""
        stop = asyncio.Event()
        workers = [asyncio.create_task(self.worker(base, stop)) for _ in range(WORKERS)]
        if proc is not None:
            await asyncio.sleep(kill_after_s)
            proc.kill()
        await asyncio.gather(*workers)


def serve(dokja, free_port, url: str, cache, log):
    port = free_port()
    proc = dokja("serve", "--port", str(port), "--db", url, "--cache", str(cache), "--per-address", "100000000",
                 "--votes-per-minute", "100000000",
                 "--pow-bits", "0",  # crash safety, not the proof of work: these visitors vote without solving it
                 stdout=log, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(base: str, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the server exited with {proc.returncode}"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


def store_state(url: str) -> tuple[dict[str, str], int, list[bytes]]:
    """Votes stored (battle key → outcome), votes the audit log says were committed, the log's leaf hashes."""
    engine = create_engine(url)
    with engine.connect() as conn:
        votes = dict(conn.execute(text("SELECT b.key, v.outcome FROM arena_vote v JOIN arena_battle b "
                                       "ON b.id = v.battle_id")).all())
        payloads = conn.execute(text("SELECT payload FROM audit_entry WHERE kind = 'votes committed'")).scalars()
        logged = sum((p if isinstance(p, dict) else json.loads(p))["votes"] for p in payloads)
        hashes = [bytes.fromhex(h) for h in conn.execute(text("SELECT leaf_hash FROM audit_entry ORDER BY id"))
                  .scalars()]
    engine.dispose()
    return votes, logged, hashes


def test_killed_server_keeps_every_acknowledged_vote(tmp_path, cache, free_port, dokja, audit_problems):
    from dokja.audit.log import Checkpoint, extends
    from dokja.audit.merkle import root_from_hashes

    url = f"sqlite:///{tmp_path / 'arena.db'}"
    rng = random.Random(20251230)
    voter = Voter(seed_battles(url, cache, BATTLES), rng)
    logs, kills, while_starting = [], 0, 0
    deadline = time.monotonic() + 300
    with open(tmp_path / "server.log", "ab") as log:
        while kills < KILLS:
            proc, base = serve(dokja, free_port, url, cache, log)
            if kills % 2:  # killed while it starts: importing, opening and migrating the store, binding
                time.sleep(rng.uniform(0.3, 3.0))
                proc.kill()
                while_starting += 1
            else:
                wait_ready(base, proc, deadline)
                asyncio.run(voter.vote(base, proc, rng.uniform(0.05, 0.6)))
            proc.wait()
            kills += 1
            logs.append(store_state(url)[2])
        proc, base = serve(dokja, free_port, url, cache, log)  # a last life: every vote not known in yet
        try:
            wait_ready(base, proc, deadline)
            asyncio.run(voter.vote(base))
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    stored, logged, hashes = store_state(url)
    known = {**voter.acked, **{k: voter.intended[k] for k in voter.confirmed}}
    print(f"\nkills {kills} ({while_starting} while starting), votes acknowledged {len(voter.acked)}, "
          f"answers lost to a kill {len(voter.unanswered)} (of which stored {len(voter.confirmed)}), "
          f"votes stored {len(stored)}")
    assert not voter.refused and not voter.pending
    assert all(stored.get(k) == v for k, v in voter.acked.items()), "an acknowledged vote was lost or changed"
    assert stored == known and len(stored) == BATTLES
    assert logged == len(stored)
    assert audit_problems(url) == []

    for old in logs:  # each state seen between kills is a prefix of the final log
        assert extends(Checkpoint(len(old), root_from_hashes(old).hex(), ""), hashes)
