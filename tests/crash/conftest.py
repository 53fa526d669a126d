"""What the crash tests share: a free loopback port, a command-line process, and the audit log's own check."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

ENV = dict(os.environ, HF_HUB_OFFLINE="1", TQDM_DISABLE="1", NO_COLOR="1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dokja(*args: str, **kw) -> subprocess.Popen:
    """The real command line in its own process (so it can be killed like any server)."""
    return subprocess.Popen([sys.executable, "-c", "from dokja.cli import app; app()", *args], env=ENV, **kw)


def _audit_problems(url: str) -> list[str]:
    """Everything wrong with the store's audit log: entries whose leaf no longer matches, a root that does not
    recompute from the entries' content."""
    from dokja.audit.log import entries, entry_leaf, verify_entries
    from dokja.audit.merkle import root_from_hashes
    from dokja.store import open_store

    sessions = open_store(url)
    try:
        with sessions() as session:
            rows = entries(session)
            problems = verify_entries(rows)
            stored = root_from_hashes([bytes.fromhex(e.leaf_hash) for e in rows])
            recomputed = root_from_hashes([entry_leaf(e.kind, e.subject, e.payload) for e in rows])
            if stored != recomputed:
                problems.append("the log's Merkle root does not recompute from its entries")
            return problems
    finally:
        sessions.kw["bind"].dispose()


@pytest.fixture(scope="session")
def free_port():
    return _free_port


@pytest.fixture(scope="session")
def dokja():
    return _dokja


@pytest.fixture(scope="session")
def audit_problems():
    return _audit_problems


@pytest.fixture(scope="session")
def tiny_model(cache):
    """A real Llama-shape model trained from scratch for two steps: small enough to restart in a blink."""
    from dokja.demo.builders import build_scratch_model

    out = cache / "models" / "crash-tiny"
    if not (out / "config.json").exists():
        build_scratch_model(out, seed=0, vocab_size=512, hidden=32, layers=1, heads=2, steps=2, seq_len=32,
                            batch_size=2)
    return out
