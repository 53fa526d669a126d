"""The signed results bundle: `dokja verify` passes on an untouched bundle and names each tampering."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dokja.arena.export import write_votes
from dokja.arena.leaderboard import VoteRecord
from dokja.audit import keys
from dokja.audit.log import canonical_json
from dokja.bundle import verify_bundle, write_bundle
from dokja.cli import app
from dokja.stage import OfficeFiles, decide_stage
from dokja.stage.record import now_utc
from dokja.store import schema as db


@pytest.fixture(scope="module")
def decided(tmp_path_factory, smollm2_dir, cache, evaluate_stage, make_two_teams):
    """A real decision (SmolLM2 copies evaluated on the first items, arena votes), its store and key."""
    root = tmp_path_factory.mktemp("bundle")
    text = """
name = "Bundle test"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2025-12-30
keep = 1
[suites]
ministry = ["kobest_copa"]
global_common = ["kobbq"]
global_individual = ["ko_math"]
limit = 4
max_new_tokens = { ko_math = 12 }
[robustness]
rounds = 20
[[references]]
name = "Frontier"
vendor = "V"
released = 2025-09-01
scores = { kobbq = 0.6, kobest_copa = 0.8, ko_math = 0.5 }
"""
    sessions = make_two_teams(root, text, smollm2_dir, cache)
    evaluate_stage(sessions, cache)
    votes = [VoteRecord(f"b{k}", "alpha-model", "beta-model", "a" if k % 3 else "b") for k in range(30)]
    write_votes(votes, root / "votes.jsonl")
    (root / "e.csv").write_text("team,expert\nalpha,25\nbeta,24\n")
    number, decision = decide_stage(sessions, None, OfficeFiles(expert=root / "e.csv", votes=root / "votes.jsonl"))
    keys.init_key(root / "office.key")
    with sessions.begin() as s:
        write_bundle(s, s.get(db.Decision, number), root / "office.key", root / "bundle.zip", time=now_utc())
    return root, sessions, number


def tampered(src: Path, dst: Path, key: Path, edit) -> Path:
    """The bundle with `edit(files)` applied, re-hashed and re-signed with the office's own key: what an
    insider could forge. Only the recomputation can catch it."""
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    edit(files)
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()
                         if n not in ("manifest.json", "manifest.sig")}
    files["manifest.json"] = canonical_json(manifest)
    files["manifest.sig"] = keys.sign(keys.load_key(key), files["manifest.json"]).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return dst


def edit_json(name, change):
    def edit(files):
        data = json.loads(files[name])
        change(data)
        files[name] = canonical_json(data)
    return edit


def edit_lines(name, change):
    def edit(files):
        lines = [json.loads(x) for x in files[name].splitlines()]
        change(lines)
        files[name] = b"".join(canonical_json(x) + b"\n" for x in lines)
    return edit


def test_untouched_bundle_verifies(decided):
    root, _, number = decided
    manifest, problems = verify_bundle(root / "bundle.zip", (root / "office.key.pub").read_text().strip())
    assert problems == [] and manifest["decision"] == number
    result = CliRunner().invoke(app, ["verify", str(root / "bundle.zip")], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "verified" in result.output


def _flip_score(lines):
    lines[0]["score"] = 1.0 - lines[0]["score"]


def _other_answer(lines):
    """A generated answer replaced by a different one, its stored metrics left as they were."""
    line = next(x for x in lines if x["suite"] == "ko_math" and x["metrics"])
    right = str(line["target"]["item"]["answer"])
    line["output"]["output"] = str(int(right) + 1) if line["metrics"]["numeric"] else right


def _other_item(lines):
    line = next(x for x in lines if x["suite"] == "ko_math")
    line["target"]["item"]["answer"] = "-1"


def _flip_vote(lines):
    lines[0]["outcome"] = "b" if lines[0]["outcome"] == "a" else "a"


def _drop_vote(data):
    data["arena"]["votes"].pop(0)


def _drop_vote_file(files):
    edit_json("inputs.json", _drop_vote)(files)
    files["votes.jsonl"] = b"\n".join(files["votes.jsonl"].splitlines()[1:]) + b"\n"


def _expert(data):
    data["teams"][0]["expert"] = 35.0


def _weight(data):
    data["programme"]["scheme"]["user"] = 40.0


def _total(data):
    data["teams"][0]["total"] = 99.0


def _swap_entries(data):
    a, b = data["entries"][0], data["entries"][1]
    a["index"], b["index"] = b["index"], a["index"]


def _drop_entry(data):
    data["entries"].pop(0)


@pytest.mark.parametrize("edit, expected", [
    (edit_lines("items.jsonl", _flip_score), "stored score"),
    (edit_lines("items.jsonl", _other_answer), "recomputed"),
    (edit_lines("items.jsonl", _other_item), "not the one committed to"),
    (edit_lines("votes.jsonl", _flip_vote), "vote 1: differs from the votes the decision counted"),
    (_drop_vote_file, "inputs.json: differs from the inputs the logged decision was made from"),
    (edit_json("inputs.json", _expert), "decision.teams[alpha].points.expert"),
    (edit_json("inputs.json", _weight), "inputs.json: differs from the inputs the logged decision"),
    (edit_json("decision.json", _total), "decision.teams"),
    (edit_json("log.json", _swap_entries), "not in the signed log"),
], ids=["item output", "generated answer", "item shown", "vote changed", "vote removed", "expert score", "scheme weight", "decision field",
        "log entries reordered"])
def test_each_tampering_is_named(decided, tmp_path, edit, expected):
    root, _, _ = decided
    forged = tampered(root / "bundle.zip", tmp_path / "forged.zip", root / "office.key", edit)
    _, problems = verify_bundle(forged)
    assert any(expected in p for p in problems), problems
    result = CliRunner().invoke(app, ["verify", str(forged)], env={"COLUMNS": "300"})
    assert result.exit_code == 1 and expected in result.output


def copy_of_store(root: Path, where: Path):
    """A copy of the decided store, to damage without touching the shared one."""
    import sqlite3

    from dokja.store import open_store

    where.mkdir(exist_ok=True)
    with sqlite3.connect(root / "stage.db") as src, sqlite3.connect(where / "d.db") as dst:
        src.backup(dst)  # the write-ahead log's pages included
    url = f"sqlite:///{where / 'd.db'}"
    return open_store(url), url


def test_a_log_entry_removed_from_the_store_breaks_consistency(decided, tmp_path):
    root, _, _ = decided
    with zipfile.ZipFile(root / "bundle.zip") as z:
        (tmp_path / "log.json").write_bytes(z.read("log.json"))
    sessions, db_url = copy_of_store(root, tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["log", "verify", "--since", str(tmp_path / "log.json"), "--db", db_url]).exit_code == 0
    with sessions.begin() as s:
        first = s.query(db.AuditEntry).order_by(db.AuditEntry.id).first()
        s.delete(first)
    result = runner.invoke(app, ["log", "verify", "--since", str(tmp_path / "log.json"), "--db", db_url],
                           env={"COLUMNS": "300"})
    assert result.exit_code == 1 and "does not extend the checkpoint" in result.output


def test_a_changed_entry_in_the_store_is_named(decided):
    root, _, _ = decided
    sessions, db_url = copy_of_store(root, root / "copy2")
    with sessions.begin() as s:
        row = s.query(db.AuditEntry).filter(db.AuditEntry.kind == "run finished").first()
        row.payload = {**row.payload, "results_sha256": "0" * 64}
    result = CliRunner().invoke(app, ["log", "verify", "--db", db_url], env={"COLUMNS": "300"})
    assert result.exit_code == 1 and "content does not match its leaf hash" in result.output


def test_a_bad_signature_fails(decided, tmp_path):
    root, _, _ = decided
    with zipfile.ZipFile(root / "bundle.zip") as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["manifest.sig"] = b"00" * 64
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
    _, problems = verify_bundle(tmp_path / "b.zip")
    assert "manifest.sig: bad signature over manifest.json" in problems
    other = keys.init_key(tmp_path / "other.key")
    _, problems = verify_bundle(root / "bundle.zip", other)
    assert any("not the published key" in p for p in problems)


def test_public_bundle_withholds_scores_and_verifies(decided, tmp_path):
    root, sessions, number = decided
    with sessions.begin() as s:
        write_bundle(s, s.get(db.Decision, number), root / "office.key", tmp_path / "public.zip", level="public",
                     time=now_utc())
    with zipfile.ZipFile(tmp_path / "public.zip") as z:
        names = set(z.namelist())
        decision = json.loads(z.read("decision.json"))
    assert "items.jsonl" not in names and "inputs.json" not in names
    assert "points" not in decision["teams"][0] and "outcome" in decision["teams"][0]
    assert verify_bundle(tmp_path / "public.zip")[1] == []
