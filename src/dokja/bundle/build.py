"""Writing a stage's signed results bundle: one zip that anyone can check offline with `dokja verify`.

Files: ``manifest.json`` (canonical JSON: every other file's SHA-256, the office's public key) and
``manifest.sig`` (Ed25519 over the manifest's bytes); ``programme.toml``; ``suites.json`` (commitments, never
a sealed suite's items); ``items.jsonl`` (every per-item output the decision used, teams' and references');
``votes.jsonl`` (the stage's anonymised votes with their flags); ``inputs.json`` (`StageInputs`);
``decision.json`` (`Decision`); ``log.json`` (a signed log checkpoint and the inclusion proofs of the entries
the decision rests on); ``item.schema.json`` (the per-item record format).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..arena.leaderboard import VoteRecord
from ..audit import keys
from ..audit.log import Checkpoint, canonical_json, checkpoint, entries, json_safe, proofs
from ..stage.records import Decision, StageInputs
from ..store import schema as db
from .schema import ITEM_SCHEMA

FORMAT = "dokja-bundle/1"
LEVELS = ("full", "public")


class BundleError(ValueError):
    """A bundle that cannot be written or read; one line naming why."""


RESCORING = ("scorer", "regex")  # what a generated answer's score depends on besides the item and the text


def item_records(session: Session, inputs: StageInputs) -> Iterable[dict]:
    """Every per-item output of every run the decision used, in run then item order."""
    runs = [(t.model, r) for t in inputs.teams for r in t.runs.values()]
    runs += [(ref.model or ref.name, r) for ref in inputs.references for r in ref.runs.values()]
    unique = {run.run_id: (model, run) for model, run in runs}  # a reference may be a team's model too
    for model, run in (unique[k] for k in sorted(unique)):
        suite = session.scalar(select(db.Suite).where(db.Suite.key == run.suite))
        sealed = "sealed" in (suite.meta or {})
        rows = session.execute(select(db.Item.key, db.Item.payload, db.Result.metrics, db.Result.detail)
                               .join(db.Item, db.Item.id == db.Result.item_id)
                               .where(db.Result.run_id == run.run_id).order_by(db.Item.position))
        for key, payload, metrics, detail in rows:
            record = {"run": run.run_id, "model": model, "suite": run.suite, "item": key,
                      "item_sha256": hashlib.sha256(canonical_json(payload)).hexdigest(),
                      "metrics": metrics, "score": metrics.get(run.metric) if metrics else None,
                      "output": json_safe(detail or {})}
            if not sealed and "choices" in payload:
                record["target"] = {"choices": payload["choices"], "answer": payload.get("answer")}
            elif not sealed and suite.kind == "generate":  # the item and how it is scored: re-scored by verify
                record["target"] = {"item": payload, "scoring": {k: suite.meta[k] for k in RESCORING
                                                                 if k in (suite.meta or {})} | {"kind": suite.kind}}
            yield record


STAGE_KINDS = ("panel assigned", "panel closed", "decision published", "grievance filed", "grievance waived",
               "grievance rerun", "results final", "repechage opened", "allocation")


def _office_entries(rows, stage: str) -> list[int]:
    """The office's entries about the stage: its panel, the publication, every grievance and its rulings, the
    repechage call and its votes, the allocations; so the bundle carries the whole story with proofs."""
    grievances = {e.payload.get("grievance") for e in rows if e.kind == "grievance filed"
                  and e.payload.get("stage") == stage}
    calls = {e.payload.get("call") for e in rows if e.kind == "repechage opened" and e.payload.get("stage") == stage}
    return [i for i, e in enumerate(rows)
            if (e.kind in STAGE_KINDS and e.payload.get("stage") == stage)
            or (e.kind == "grievance ruled" and e.payload.get("grievance") in grievances)
            or (e.kind.startswith("repechage") and e.payload.get("call") in calls)]


def _log_part(session: Session, key, inputs: StageInputs, decision_id: int, time: str, level: str) -> dict:
    """The signed checkpoint and the proofs of the entries this decision rests on: its own entry, the runs it
    used, the provenance verdicts it read."""
    rows = entries(session)
    hashes = [bytes.fromhex(e.leaf_hash) for e in rows]
    runs = {r.run_id for t in inputs.teams for r in t.runs.values()}
    runs |= {r.run_id for ref in inputs.references for r in ref.runs.values()}
    checks = {t.evidence.provenance.check_id for t in inputs.teams if t.evidence.provenance}
    wanted = [i for i, e in enumerate(rows) if (e.kind == "decision" and e.payload.get("decision") == decision_id)
              or (e.kind == "run finished" and e.payload.get("run") in runs)
              or (e.kind == "provenance verdict" and e.payload.get("check") in checks)]
    office = [i for i in _office_entries(rows, inputs.stage) if level == "full" or rows[i].kind != "panel closed"]
    wanted = sorted(set(wanted) | set(office))  # a public bundle withholds the panel's revealed scores
    point = checkpoint(session, time)
    return {"checkpoint": {"size": point.size, "root": point.root, "time": point.time,
                           "signature": keys.sign(key, point.message())},
            "entries": [{"index": i, "kind": rows[i].kind, "subject": rows[i].subject, "payload": rows[i].payload,
                         "proof": proof} for i, proof in proofs(hashes, wanted).items()]}


def public_decision(decision: dict) -> dict:
    """The decision with per-team scores withheld (as the real programme published it): outcomes, ranks and
    gates stay; the full decision's SHA-256 stays, so the public can check it is the logged one."""
    teams = [{k: t[k] for k in ("id", "name", "name_ko", "model", "model_sha256", "rank", "outcome", "reason")}
             | {"gates": {g: {"passed": v["passed"]} for g, v in t["gates"].items()}} for t in decision["teams"]]
    return {"stage": decision["stage"], "programme": decision["programme"], "teams": teams,
            "frontier": decision["frontier"], "shortfall": decision.get("shortfall"),
            "generated_at": decision["generated_at"]}


def write_bundle(session: Session, decision_row: db.Decision, key_file: Path, out: Path, *,
                 level: str = "full", time: str) -> Path:
    """Write the bundle of one recorded decision, signed with the office's key."""
    if level not in LEVELS:
        raise BundleError(f"disclosure level {level!r}: one of {', '.join(LEVELS)}")
    key = keys.load_key(key_file)
    inputs = StageInputs.model_validate(decision_row.inputs)
    decision = Decision.model_validate(decision_row.data)
    prow = session.get(db.Stage, decision_row.stage_id).programme
    files: dict[str, bytes] = {"programme.toml": (prow.source or "").encode(),
                               "suites.json": canonical_json([s.model_dump(mode="json") for s in inputs.suites]),
                               "log.json": canonical_json(_log_part(session, key, inputs, decision_row.id, time,
                                                                    level)),
                               "item.schema.json": json.dumps(ITEM_SCHEMA, indent=1).encode()}
    if level == "full":
        files["inputs.json"] = inputs.canonical()
        files["decision.json"] = decision.canonical()
        files["items.jsonl"] = b"".join(canonical_json(r) + b"\n" for r in item_records(session, inputs))
        votes = inputs.arena.votes if inputs.arena else ()
        names = [f.name for f in dataclasses.fields(VoteRecord)]
        files["votes.jsonl"] = b"".join(canonical_json({n: getattr(v, n) for n in names}) + b"\n" for v in votes)
    else:
        files["decision.json"] = canonical_json(public_decision(decision.model_dump(mode="json")))
    manifest = canonical_json({"format": FORMAT, "level": level, "stage": inputs.stage, "decision": decision_row.id,
                               "decision_sha256": decision_row.sha256, "public_key": keys.public_hex(key),
                               "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", manifest)
        z.writestr("manifest.sig", keys.sign(key, manifest))
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    out.write_bytes(buf.getvalue())
    return out


def checkpoint_of(part: dict) -> Checkpoint:
    c = part["checkpoint"]
    return Checkpoint(c["size"], c["root"], c["time"])
