"""The audit log in the store: append an event in the caller's transaction; check the whole log.

Each entry's leaf is SHA-256(0x00 ‖ canonical JSON of {kind, subject, payload}); the log's root is the
RFC 9162 Merkle tree hash over the leaves in order, so an entry changed, removed or moved changes the root,
and a signed checkpoint (size, root, time) lets anyone prove an entry is in the log (inclusion) and that a
later log extends an earlier one (consistency).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..store.schema import AuditEntry
from .canonical import canonical_json
from .merkle import consistency_proof, inclusion_proof, leaf_hash, root_from_hashes, verify_consistency

KINDS = ("programme imported", "team registered", "model registered", "model submitted", "suite registered",
         "run finished",
         "votes committed", "provenance verdict", "reviewer note", "decision",
         # the expert panel
         "reviewer registered", "conflict declared", "conflict checked", "conflict dismissed", "panel assigned",
         "panel score", "panel closed",
         # after a decision: publication, grievances, repechage, resources, accounts
         "decision published", "grievance filed", "grievance ruled", "grievance waived", "grievance rerun",
         "results final", "repechage opened", "repechage applied", "repechage vote", "repechage decided",
         "allocation", "user added")


def json_safe(value: Any) -> Any:
    """Non-finite floats (an unbounded interval, a missing statistic) have no JSON form: they become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def entry_leaf(kind: str, subject: str, payload: dict) -> bytes:
    return leaf_hash(canonical_json({"kind": kind, "subject": subject, "payload": payload}))


def _in_order(conn) -> None:
    """PostgreSQL hands out ids before commit, so two appenders could commit out of id order and a reader see a
    gap filled later; a transaction-scoped lock makes appends commit in id order (SQLite has one writer)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7390011)"))


def append(session: Session, kind: str, subject: str, payload: dict) -> AuditEntry:
    """Add one entry in the caller's transaction, so the event and its record commit or fail together."""
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}")
    _in_order(session.connection())
    row = AuditEntry(kind=kind, subject=subject[:300], payload=payload,
                     leaf_hash=entry_leaf(kind, subject[:300], payload).hex())
    session.add(row)
    session.flush()
    return row


def append_core(conn, kind: str, subject: str, payload: dict) -> None:
    """`append` for a Core connection (the arena's ballot box commits votes without the ORM)."""
    from sqlalchemy import insert

    _in_order(conn)
    conn.execute(insert(AuditEntry), [{"kind": kind, "subject": subject, "payload": payload,
                                       "leaf_hash": entry_leaf(kind, subject, payload).hex()}])


def entries(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


@dataclass(frozen=True)
class Checkpoint:
    """A log state: its size, root and time; signed over the canonical JSON of those three."""

    size: int
    root: str
    time: str

    def message(self) -> bytes:
        return canonical_json({"size": self.size, "root": self.root, "time": self.time})


def checkpoint(session: Session, time: str) -> Checkpoint:
    hashes = [bytes.fromhex(e.leaf_hash) for e in entries(session)]
    return Checkpoint(len(hashes), root_from_hashes(hashes).hex(), time)


def proofs(hashes: list[bytes], indices: list[int]) -> dict[int, list[str]]:
    """Inclusion proofs (hex) of the given leaves in the tree of all ``hashes``."""
    return {i: [h.hex() for h in inclusion_proof(i, hashes)] for i in indices}


def verify_entries(rows: list[AuditEntry]) -> list[str]:
    """One line per entry whose stored leaf no longer matches its content."""
    out = []
    for n, e in enumerate(rows):
        if entry_leaf(e.kind, e.subject, e.payload).hex() != e.leaf_hash:
            out.append(f"log entry {n} ({e.kind} {e.subject}): content does not match its leaf hash")
    return out


def extends(old: Checkpoint, hashes: list[bytes]) -> bool:
    """Whether the log of ``hashes`` extends the one ``old`` describes (an RFC 9162 consistency proof)."""
    if old.size > len(hashes):
        return False
    new_root = root_from_hashes(hashes)
    proof = consistency_proof(old.size, hashes) if old.size else []
    return verify_consistency(old.size, len(hashes), bytes.fromhex(old.root), new_root, proof)
