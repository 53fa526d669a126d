"""`dokja verify BUNDLE`, offline: the signature, every file's hash, the log proofs, and then every number
recomputed — suite scores from the per-item outputs, ratings from the votes, the points and the whole decision,
to the byte. What does not hold is named in one line each."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator

from ..audit import keys
from ..arena.leaderboard import VoteRecord
from ..audit.log import canonical_json, entry_leaf
from ..audit.merkle import verify_inclusion
from .build import FORMAT, BundleError, checkpoint_of


def read_bundle(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as z:
            return {n: z.read(n) for n in z.namelist()}
    except FileNotFoundError:
        raise BundleError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError, NotImplementedError, ValueError) as exc:
        # a damaged or hostile zip: bad headers, an "encrypted" flag, an unknown compression method
        raise BundleError(f"{path}: not a results bundle ({exc})") from None


def _json(files: dict[str, bytes], name: str) -> Any:
    try:
        return json.loads(files[name])
    except KeyError:
        raise BundleError(f"{name}: missing from the bundle") from None
    except ValueError as exc:
        raise BundleError(f"{name}: not valid JSON ({exc})") from None


def check_envelope(files: dict[str, bytes], public_key: str | None) -> tuple[dict, list[str]]:
    """The manifest's signature (against the published key when given) and every listed file's hash."""
    manifest, problems = _json(files, "manifest.json"), []
    if manifest.get("format") != FORMAT:
        raise BundleError(f"manifest.json: format {manifest.get('format')!r}, expected {FORMAT!r}")
    key = manifest.get("public_key", "")
    if public_key and public_key != key:
        problems.append(f"manifest: signed with key {key[:16]}…, not the published key {public_key[:16]}…")
    if not keys.signature_ok(key, files.get("manifest.sig", b"").decode(errors="replace").strip(),
                             files["manifest.json"]):
        problems.append("manifest.sig: bad signature over manifest.json")
    for name, digest in manifest.get("files", {}).items():
        if name not in files:
            problems.append(f"{name}: listed in the manifest but missing")
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            problems.append(f"{name}: SHA-256 differs from the manifest")
    extra = set(files) - set(manifest.get("files", {})) - {"manifest.json", "manifest.sig"}
    problems += [f"{name}: in the bundle but not in the manifest" for name in sorted(extra)]
    return manifest, problems


def check_log(part: dict, key: str) -> list[str]:
    """The checkpoint's signature and each entry's inclusion proof under its root."""
    point = checkpoint_of(part)
    problems = [] if keys.signature_ok(key, part["checkpoint"].get("signature", ""), point.message()) else [
        "log checkpoint: bad signature"]
    root = bytes.fromhex(point.root)
    for e in part.get("entries", []):
        leaf = entry_leaf(e["kind"], e["subject"], e["payload"])
        proof = [bytes.fromhex(h) for h in e.get("proof", [])]
        if not verify_inclusion(e["index"], point.size, leaf, proof, root):
            problems.append(f"log entry {e['index']} ({e['kind']} {e['subject']}): not in the signed log "
                            f"(inclusion proof fails)")
    return problems


def _lines(files: dict[str, bytes], name: str) -> Iterator[dict]:
    for n, line in enumerate(files.get(name, b"").splitlines(), 1):
        try:
            yield json.loads(line)
        except ValueError:
            raise BundleError(f"{name}:{n}: not valid JSON") from None


def check_items(files: dict[str, bytes], inputs, log_entries: list[dict]) -> list[str]:
    """Per-item outputs against the decision's inputs, the log's run hashes, and the scores they imply."""

    used = {(r.run_id, i.item): (t, r, i.score) for t, runs in _runs(inputs) for r in runs for i in r.items}
    by_run: dict[int, list] = {}
    problems = []
    for rec in _lines(files, "items.jsonl"):
        by_run.setdefault(rec["run"], []).append([rec["item"], rec["metrics"]])
        where = f"{rec['suite']} item {rec['item']} of {rec['model']}"
        got = used.pop((rec["run"], rec["item"]), None)
        if got is not None and got[2] != rec["score"]:
            problems.append(f"{where}: stored score {rec['score']}, decision used {got[2]}")
        problems += _rescored(rec, where)
    problems += [f"{r.suite} item {item} of run {run}: used by the decision but missing from items.jsonl"
                 for (run, item), (_, r, _) in sorted(used.items(), key=lambda kv: kv[0])]
    for e in log_entries:
        if e["kind"] == "run finished" and e["payload"]["run"] in by_run:
            digest = hashlib.sha256(canonical_json(by_run[e["payload"]["run"]])).hexdigest()
            if digest != e["payload"]["results_sha256"]:
                problems.append(f"run {e['payload']['run']} ({e['subject']}): per-item results differ from the log")
    return problems


def _rescored(rec: dict, where: str) -> list[str]:
    """The item's metrics recomputed from what the model produced: the choices' log-likelihoods, or a generated
    answer's text rescored by the suite's scorer (not code, a judge's grade or n samples: they need more)."""
    from ..harness.runner import score_answer
    from ..harness.scoring import multiple_choice

    out, target = rec.get("output") or {}, rec.get("target") or {}
    if not target or not rec["metrics"]:
        return []
    if "logprobs" in out and "choices" in target:
        again = multiple_choice(out["logprobs"], target["choices"], target["answer"])
    elif "item" in target and isinstance(out.get("output"), str) and "samples" not in out:
        if hashlib.sha256(canonical_json(target["item"])).hexdigest() != rec["item_sha256"]:
            return [f"{where}: the item shown is not the one committed to (item_sha256)"]
        scored = score_answer(rec["suite"], target.get("scoring") or {}, target["item"], out["output"])
        again = scored[0] if scored else {}
    else:
        return []
    return [f"{where}: stored {metric} {value:g}, recomputed {again[metric]:g}"
            for metric, value in rec["metrics"].items() if metric in again and again[metric] != value]


def _runs(inputs):
    yield from ((t.model, list(t.runs.values())) for t in inputs.teams)
    yield from ((ref.name, list(ref.runs.values())) for ref in inputs.references)


def check_votes(files: dict[str, bytes], inputs) -> list[str]:
    """votes.jsonl against the votes the decision counted, vote by vote."""
    names = [f.name for f in dataclasses.fields(VoteRecord)]
    given = [tuple(v.get(n) for n in names) for v in _lines(files, "votes.jsonl")]
    used = [tuple(getattr(v, n) for n in names) for v in (inputs.arena.votes if inputs.arena else ())]
    problems = [f"vote {n}: differs from the votes the decision counted" for n, (a, b) in
                enumerate(zip(given, used), 1) if a != b]
    if len(given) != len(used):
        problems.append(f"votes.jsonl: {len(given)} votes, the decision counted {len(used)}")
    return problems
