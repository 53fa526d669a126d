"""The decision recomputed from the bundle's inputs, and what differs named field by field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from pydantic import ValidationError

from ..stage import StageError, decide
from ..stage.records import StageInputs
from .build import BundleError
from .verify import check_envelope, check_items, check_log, check_votes, read_bundle


def differences(stored: Any, again: Any, path: str = "decision") -> Iterator[str]:
    """'decision: teams[hanbit].total 64.1 ≠ recomputed 63.2', one per differing leaf."""
    if isinstance(stored, dict) and isinstance(again, dict):
        for key in sorted(set(stored) | set(again)):
            yield from differences(stored.get(key), again.get(key), f"{path}.{key}")
    elif isinstance(stored, list) and isinstance(again, list) and len(stored) == len(again):
        for n, (a, b) in enumerate(zip(stored, again)):
            label = a.get("id") or a.get("team") or a.get("name") if isinstance(a, dict) else None
            yield from differences(a, b, f"{path}[{label or n}]")
    elif stored != again:
        yield f"{path} {json.dumps(stored, ensure_ascii=False)[:60]} ≠ recomputed {json.dumps(again, ensure_ascii=False)[:60]}"


def check_decision(files: dict[str, bytes], manifest: dict, log_entries: list[dict]) -> tuple[list[str], Any]:
    """Recompute the decision from inputs.json; it must equal decision.json to the byte and the logged hashes."""
    try:
        inputs = StageInputs.model_validate_json(files["inputs.json"])
    except ValidationError as exc:
        return [f"inputs.json: not valid stage inputs ({exc.errors()[0]['msg']})"], None
    problems = []
    logged = next((e["payload"] for e in log_entries if e["kind"] == "decision"
                   and e["payload"].get("decision") == manifest.get("decision")), None)
    if logged is None:
        problems.append(f"log: no entry for decision {manifest.get('decision')}")
    elif logged["inputs_sha256"] != inputs.sha256():
        problems.append("inputs.json: differs from the inputs the logged decision was made from")
    try:
        again = decide(inputs)
    except StageError as exc:
        return problems + [f"decision: cannot be recomputed ({exc})"], inputs
    if again.canonical() != files["decision.json"]:
        stored = json.loads(files["decision.json"])
        problems += list(differences(stored, json.loads(again.canonical()))) or ["decision.json: not canonical"]
    if logged is not None and logged["sha256"] != again.sha256():
        problems.append("decision: the recomputed decision's SHA-256 differs from the log's")
    return problems, inputs


def verify_bundle(path: Path, public_key: str | None = None) -> tuple[dict, list[str]]:
    """Every check, in order; returns the manifest and one line per problem (none: the bundle holds)."""
    files = read_bundle(path)
    manifest, problems = check_envelope(files, public_key)
    try:
        log = json.loads(files["log.json"])
    except (KeyError, ValueError):
        raise BundleError("log.json: missing or not valid JSON") from None
    problems += check_log(log, manifest.get("public_key", ""))
    if manifest.get("level") == "public":
        if not any(e["kind"] == "decision" and e["payload"].get("sha256") == manifest.get("decision_sha256")
                   for e in log.get("entries", [])):
            problems.append("manifest: the decision's SHA-256 is not the logged one")
        return manifest, problems
    found, inputs = check_decision(files, manifest, log.get("entries", []))
    problems += found
    if inputs is not None:
        problems += check_items(files, inputs, log.get("entries", []))
        problems += check_votes(files, inputs)
    return manifest, problems
