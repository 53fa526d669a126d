"""The ledger in the store: opened once, a decision applied once, every entry in the audit log."""

import datetime as dt

import pytest
from sqlalchemy import select

from dokja.audit.log import entries as audit_entries
from dokja.resources import POOL, ResourcesError, allocate, holdings, ledger, open_ledger, summary, totals
from dokja.resources.tables import LedgerEntry
from dokja.store import schema as db

from .conftest import BN, SPEC


def rules():
    from dokja.programme.schema import Programme

    return Programme.model_validate(SPEC).resources


def test_allocate_opens_the_ledger_applies_the_decision_once_and_logs_each_entry(decided):
    with decided.begin() as s:
        added = allocate(s, "s1", None)
    with decided.begin() as s:
        assert allocate(s, "s1", None) == []
        assert open_ledger(s) == []
        stored = ledger(s)
        logged = [e for e in audit_entries(s) if e.kind == "allocation"]
    assert len(stored) == 12 + len(added) and added  # 3 teams × GPUs, joint and own data, talent
    assert len(logged) == len(stored) and logged[-1].payload["entry"] == len(stored)
    assert {e.decision for e in added} == {1} and {e.stage for e in added} == {"s1"}


def test_elimination_in_the_store_conserves_the_totals(decided):
    with decided.begin() as s:
        before = open_ledger(s)
        allocate(s, "s1", None)
        after = ledger(s)
    back = dt.date(2026, 1, 9)  # decided 2025-12-30, GPUs back 10 days later
    gamma = holdings(after, back)["gamma"]
    assert gamma.gpus == {} and gamma.own_data == 4 * BN and gamma.talent == 0
    assert holdings(after, back)[POOL].gpus == {"H100": 1024}
    t0, t1 = totals(before, rules()), totals(after, rules())
    assert t0.issued_h100e == 3072 and t0.pool_h100e == 0
    assert t1.pool_h100e == 1024 and t1.issued_h100e == 3072 + 2 * 256 * 2 and t1.headroom_h100e == 904
    # both survivors grew to 768 B200: new GPUs, as the pool holds H100s
    held = holdings(after, back, rules().gpu_types)
    assert held["alpha"].gpus == held["beta"].gpus == {"B200": 768}


def test_the_lessor_receives_nothing_before_its_date(decided):
    with decided.begin() as s:
        open_ledger(s)
        view = summary(s, dt.date(2025, 12, 31))
    beta = next(h for h in view.teams if h.holder == "beta")
    assert beta.gpus == {} and beta.own_data == 3 * BN and view.names["beta"] == ("Beta", "베타")


def test_a_team_admitted_later_gets_a_survivors_allocation_once(decided):
    with decided.begin() as s:
        allocate(s, "s1", 1)
    with decided.begin() as s:
        added = allocate(s, "s1", 1, admitted=["delta"])
        again = allocate(s, "s1", 1, admitted=["delta"])
        held = holdings(ledger(s), types=rules().gpu_types)
        left = totals(ledger(s), rules()).headroom_h100e
    assert added and again == []
    # the median survivor (alpha and beta tie at 1,536 H100e; alpha by id) sets delta's data and talent; its
    # 768 B200 are capped by the budget's 904 H100e left (the pool's H100s are not B200s)
    alpha, delta = held["alpha"], held["delta"]
    assert (delta.joint_data, delta.own_data, delta.talent) == (alpha.joint_data, alpha.own_data, alpha.talent)
    assert delta.gpus == {"B200": 452}
    assert left == 0


def test_refusals_are_one_line_errors(decided):
    with decided.begin() as s:
        with pytest.raises(ResourcesError, match="stage 's2' has no decision yet"):
            allocate(s, "s2", None)
        with pytest.raises(ResourcesError, match="alpha advanced at stage s1"):
            allocate(s, "s1", None, admitted=["alpha"])
        with pytest.raises(ResourcesError, match="has no decision 99"):
            allocate(s, "s1", 99)


def test_a_superseded_decision_is_refused(decided):
    with decided.begin() as s:
        first = s.get(db.Decision, 1)
        s.add(db.Decision(stage_id=first.stage_id, data=first.data, supersedes_id=1))
    with decided.begin() as s:
        with pytest.raises(ResourcesError, match="decision 1 is superseded by decision 2"):
            allocate(s, "s1", 1)
        allocate(s, "s1", 2)
        assert s.scalars(select(LedgerEntry.decision_id).where(LedgerEntry.step != "initial")).all()


def test_reading_writes_nothing(decided):
    with decided.begin() as s:
        summary(s, dt.date(2026, 2, 1))
        assert ledger(s) == []
