"""An upheld grievance changes the decision only through a logged re-run whose new decision verifies: real
SmolLM2 copies evaluated by the harness, a stored result made defective, the suite re-run, and the bundle."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from dokja.arena.export import write_votes
from dokja.arena.leaderboard import VoteRecord
from dokja.audit import keys
from dokja.audit.log import entries
from dokja.bundle import verify_bundle, write_bundle
from dokja.grievance import GrievanceError, file_grievance, publish, remedy, rule, team_grievances
from dokja.stage import Decision, OfficeFiles, decide_stage, replay
from dokja.stage.record import now_utc
from dokja.store import schema as db

from .conftest import kst

PROGRAMME = """
name = "Remedy test"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2025-12-30
keep = 1
[suites]
ministry = ["kobest_copa"]
global_common = ["kobbq"]
limit = 4
[robustness]
rounds = 0
[[references]]
name = "Frontier"
vendor = "V"
released = 2025-09-01
scores = { kobbq = 0.6, kobest_copa = 0.8 }
"""


def beta_run(session, decision_id: int, suite: str):
    data = session.get(db.Decision, decision_id).inputs
    team = next(t for t in data["teams"] if t["id"] == "beta")
    return team["runs"][suite]


def uphold(sessions, now, text):
    with sessions.begin() as s:
        number = file_grievance(s, "s1", "beta", "process_defect", text, [], now)
        for action in ("admit", "review", "uphold"):
            rule(s, number, action, f"the office: {action}", now)
    return number


@pytest.fixture(scope="module")
def stage(tmp_path_factory, smollm2_dir, cache, evaluate_stage, make_two_teams):
    """A decided and published stage in which beta's kobbq results were stored wrong (a process defect)."""
    root = tmp_path_factory.mktemp("remedy")
    sessions = make_two_teams(root, PROGRAMME, smollm2_dir, cache)
    evaluate_stage(sessions, cache)
    votes = [VoteRecord(f"b{k}", "alpha-model", "beta-model", "a" if k % 3 else "b") for k in range(30)]
    write_votes(votes, root / "votes.jsonl")
    (root / "e.csv").write_text("team,expert\nalpha,25\nbeta,24\n")
    with sessions.begin() as s:  # the defect: every stored kobbq score of beta's model flipped
        suite = s.scalar(select(db.Suite).where(db.Suite.key == "kobbq"))
        model = s.scalar(select(db.Model).where(db.Model.name == "beta-model"))
        run = s.scalar(select(db.Run).where(db.Run.model_id == model.id, db.Run.suite_id == suite.id))
        for result in s.scalars(select(db.Result).where(db.Result.run_id == run.id)):
            result.metrics = {**result.metrics, "acc": 1.0 - result.metrics["acc"]}
    first, _ = decide_stage(sessions, None, OfficeFiles(expert=root / "e.csv", votes=root / "votes.jsonl"))
    with sessions.begin() as s:
        publish(s, "s1", kst(2026, 1, 15, 10, 0))
    return root, sessions, first


def test_a_recount_needs_the_recounted_export_and_records_a_new_decision(stage):
    root, sessions, first = stage
    number = uphold(sessions, kst(2026, 1, 16, 9, 0), "votes of a flagged visitor were counted")
    with pytest.raises(GrievanceError, match="give the recounted export with --votes"):
        remedy(sessions, number, "recount", now=kst(2026, 1, 20, 9, 0))
    recounted = [VoteRecord(f"b{k}", "alpha-model", "beta-model", "a" if k % 2 else "b") for k in range(30)]
    write_votes(recounted, root / "recounted.jsonl")
    second = remedy(sessions, number, "recount", now=kst(2026, 1, 20, 9, 0), votes=root / "recounted.jsonl",
                    cache=root.parent)
    with sessions.begin() as s:
        row = s.get(db.Decision, second)
        old = Decision.model_validate(s.get(db.Decision, first).data)
        assert row.supersedes_id == first and replay(row) == Decision.model_validate(row.data)
        assert row.data["reason"] == f"grievance {number} upheld: the arena votes recounted"
        assert row.inputs["arena"]["source"] == "recounted.jsonl" and row.data["arena"] != old.arena
        assert [t["expert"] for t in row.inputs["teams"]] == [t.points.expert for t in old.teams]
        rule(s, number, "close", "recounted", kst(2026, 1, 20, 10, 0))
        publish(s, "s1", kst(2026, 1, 21, 10, 0))
    with pytest.raises(GrievanceError, match="is closed: only an upheld grievance is remedied"):
        remedy(sessions, number, "recount", now=kst(2026, 1, 22))


def test_a_suite_rerun_replaces_the_defective_run_and_the_new_decision_verifies(stage, cache):
    root, sessions, _ = stage
    with sessions.begin() as s:
        before = s.scalars(select(db.Decision.id).order_by(db.Decision.id.desc())).first()
        old_run = beta_run(s, before, "kobbq")
    number = uphold(sessions, kst(2026, 1, 22, 9, 0), "our kobbq results were stored wrong")
    with pytest.raises(GrievanceError, match="needs the suite"):
        remedy(sessions, number, "suite", now=kst(2026, 1, 25))
    new = remedy(sessions, number, "suite", suite="kobbq", now=kst(2026, 1, 25, 9, 0), cache=cache)
    with sessions.begin() as s:
        row = s.get(db.Decision, new)
        new_run = beta_run(s, new, "kobbq")
        alpha = [t for t in row.inputs["teams"] if t["id"] == "alpha"][0]["runs"]["kobbq"]
        kept = s.get(db.Run, old_run["run_id"])
        (entry,) = [e for e in entries(s) if e.kind == "grievance rerun" and e.payload["grievance"] == number]
        (view,) = [g for g in team_grievances(s, "s1", "beta") if g.id == number]
        keys.init_key(root / "office.key")
        write_bundle(s, row, root / "office.key", root / "bundle.zip", time=now_utc())
    # the fresh run scores what the model really answers: alpha's run of the same checkpoint
    assert [i["score"] for i in new_run["items"]] == [i["score"] for i in alpha["items"]]
    assert [i["score"] for i in new_run["items"]] == [1.0 - i["score"] for i in old_run["items"]]
    assert new_run["config_hash"] == old_run["config_hash"] and new_run["run_id"] != old_run["run_id"]
    assert kept.status == "superseded" and kept.config["set_aside"]["grievance"] == number  # kept as evidence
    assert row.supersedes_id == before and replay(row) == Decision.model_validate(row.data)
    assert entry.payload["decision"] == new and entry.payload["old_run"] == old_run["run_id"]
    assert view.remedy_decision == new
    manifest, problems = verify_bundle(root / "bundle.zip", (root / "office.key.pub").read_text().strip())
    assert problems == [] and manifest["decision"] == new
