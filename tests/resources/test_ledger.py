"""The ledger's rules, pure: conservation on elimination, lessors, growth within the budget, the repechage."""

import datetime as dt

import pytest
from pydantic import ValidationError

from dokja.programme.resources import check_resources
from dokja.programme.schema import Programme
from dokja.resources import (POOL, Outcomes, after_decision, csv_text, holdings, initial_entries, ledger_chart,
                             totals)

D = dt.date
START, DECIDED = D(2025, 8, 1), D(2026, 1, 15)
BN = 1_000_000_000


def programme(**resources) -> Programme:
    base = {"budget": {"gpus": 6144, "joint_data": 10 * BN, "talent": 10 * BN},
            "lessors": [{"team": "skt", "until": "2026-01-01"}],
            "allocations": [
                {"team": "lg", "gpu": "B200", "gpus": 512, "since": "2025-08-01", "joint_data": 2 * BN,
                 "own_data": 5 * BN, "talent": 2 * BN},
                {"team": "skt", "gpu": "B200", "gpus": 512, "since": "2025-08-01", "joint_data": 2 * BN,
                 "own_data": 3 * BN, "talent": 2 * BN},
                {"team": "upstage", "gpu": "H100", "gpus": 1024, "since": "2025-08-01", "joint_data": 2 * BN,
                 "own_data": 4 * BN, "talent": 2 * BN},
                {"team": "nc", "gpu": "H100", "gpus": 1024, "since": "2025-08-01", "joint_data": 2 * BN,
                 "own_data": 2_800_000_000, "talent": 2 * BN}],
            "return_days": 14}
    return Programme.model_validate({"name": "P", "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30",
                                                              "keep": 3}], "resources": base | resources})


OUTCOMES = Outcomes("s1", {"lg": "advance", "skt": "advance", "upstage": "advance", "nc": "eliminated"},
                    decision=7)


def test_initial_entries_and_the_real_offer_are_equal_in_h100_equivalents():
    p = programme()
    held = holdings(initial_entries(p), D(2026, 2, 1), p.resources.gpu_types)
    assert held["lg"].gpus == {"B200": 512} and held["lg"].h100e == held["upstage"].h100e == 1024
    assert held["lg"].own_data == 5 * BN and held["lg"].talent == 2 * BN
    assert held[POOL].h100e == 0


def test_a_lessor_holds_no_gpus_before_its_date():
    p = programme()
    entries = initial_entries(p)
    assert holdings(entries, D(2025, 12, 31), p.resources.gpu_types)["skt"].gpus == {}
    assert holdings(entries, D(2025, 12, 31))["skt"].own_data == 3 * BN  # data is not held back
    assert holdings(entries, D(2026, 1, 1))["skt"].gpus == {"B200": 512}


def test_elimination_conserves_gpus_and_keeps_data():
    p = programme()
    before = initial_entries(p)
    new = after_decision(before, OUTCOMES, p.resources, DECIDED)
    after = before + new
    back = D(2026, 1, 29)  # decided + return_days
    freed = -sum(e.amount for e in new if e.holder == "nc" and e.kind == "gpu")
    gained = sum(e.amount for e in new if e.holder == POOL)
    assert freed == gained == 1024
    assert holdings(after, back - dt.timedelta(days=1))["nc"].gpus == {"H100": 1024}
    nc = holdings(after, back)["nc"]
    assert nc.gpus == {} and nc.own_data == 2_800_000_000 and nc.joint_data == 2 * BN and nc.talent == 0
    t0, t1 = totals(before, p.resources, back), totals(after, p.resources, back)
    assert t0.issued_h100e == t1.issued_h100e == 4096 and t1.pool_h100e == 1024
    assert t0.headroom_h100e == t1.headroom_h100e == 6144 - 4096
    assert t1.teams_h100e + t1.pool_h100e == t0.teams_h100e


def test_growth_is_capped_by_the_budget_in_rank_order():
    p = programme(growth=[{"stage": "s1", "gpus": 768, "gpu": "B200"}], budget={"gpus": 5000})
    after = initial_entries(p) + after_decision(initial_entries(p), OUTCOMES, p.resources, DECIDED)
    held = holdings(after, types=p.resources.gpu_types)
    # 904 H100e left in the budget (nc's returned H100s count as issued, and growth is in B200s)
    assert held["lg"].gpus == {"B200": 768}
    assert held["skt"].gpus == {"B200": 512 + 196}
    assert held["upstage"].gpus == {"H100": 1024}
    t = totals(after, p.resources)
    assert t.issued_h100e == 5000 and t.headroom_h100e == 0


def test_growth_to_a_target_when_the_budget_allows():
    p = programme(growth=[{"stage": "s1", "gpus": 768, "gpu": "B200"}])
    after = initial_entries(p) + after_decision(initial_entries(p), OUTCOMES, p.resources, DECIDED)
    held = holdings(after, types=p.resources.gpu_types)
    assert [held[t].h100e for t in ("lg", "skt", "upstage")] == [1536] * 3
    assert held["upstage"].gpus == {"B200": 256, "H100": 1024}
    assert holdings(after, D(2026, 1, 28))["lg"].gpus == {"B200": 512}  # from decided + return_days


def test_growth_reuses_returned_gpus_of_the_same_type():
    p = programme(growth=[{"stage": "s1", "multiplier": 1.5}], budget={"gpus": 4096})
    new = after_decision(initial_entries(p), OUTCOMES, p.resources, DECIDED)
    held = holdings(initial_entries(p) + new, types=p.resources.gpu_types)
    assert held["upstage"].gpus == {"H100": 1536}  # 512 of nc's 1,024 back out of the pool
    assert held[POOL].gpus == {"H100": 512}
    assert held["lg"].gpus == {"B200": 512}  # no budget left for new B200s
    assert all(e.amount != 0 for e in new)


def test_a_repechage_team_gets_a_survivors_allocation():
    p = programme(growth=[{"stage": "s1", "gpus": 768, "gpu": "B200"}], budget={"gpus": 10000})
    outcomes = Outcomes("s1", OUTCOMES.teams, admitted=("motif",), decision=7)
    after = initial_entries(p) + after_decision(initial_entries(p), outcomes, p.resources, DECIDED)
    held = holdings(after, types=p.resources.gpu_types)
    survivors = [held[t] for t in ("lg", "skt", "upstage")]
    motif = held["motif"]
    assert any((motif.gpus, motif.joint_data, motif.own_data, motif.talent)
               == (s.gpus, s.joint_data, s.own_data, s.talent) for s in survivors)
    assert motif.gpus == {"B200": 768} and motif.own_data == 3 * BN  # the median survivor, skt


def test_a_readmitted_eliminated_team_keeps_its_data_and_is_topped_up():
    p = programme(budget={"gpus": 10000})
    outcomes = Outcomes("s1", OUTCOMES.teams, admitted=("nc",), decision=7)
    after = initial_entries(p) + after_decision(initial_entries(p), outcomes, p.resources, DECIDED)
    nc = holdings(after, types=p.resources.gpu_types)["nc"]
    assert nc.gpus == {"B200": 512} and nc.own_data == 3 * BN and nc.talent == 2 * BN


def test_applying_a_decision_again_adds_nothing_and_admissions_may_come_later():
    p = programme(growth=[{"stage": "s1", "multiplier": 1.5}])
    first = initial_entries(p) + after_decision(initial_entries(p), OUTCOMES, p.resources, DECIDED)
    assert after_decision(first, OUTCOMES, p.resources, DECIDED) == []
    later = Outcomes("s1", OUTCOMES.teams, admitted=("motif",), decision=7)
    admitted = after_decision(first, later, p.resources, DECIDED)
    assert admitted and {e.step for e in admitted} == {"admitted"}
    assert after_decision(first + admitted, later, p.resources, DECIDED) == []


def test_no_holder_ever_goes_below_zero():
    p = programme(growth=[{"stage": "s1", "multiplier": 2}], budget={"gpus": 9000})
    after = initial_entries(p) + after_decision(initial_entries(p), Outcomes(
        "s1", OUTCOMES.teams, admitted=("motif",), decision=7), p.resources, DECIDED)
    for day in sorted({e.effective for e in after}):
        for h in holdings(after, day).values():
            assert all(n > 0 for n in h.gpus.values()), (day, h)
    assert totals(after, p.resources).issued_h100e <= 9000


def test_rules_are_validated():
    with pytest.raises(ValidationError, match="unknown GPU type 'A100'"):
        programme(allocations=[{"team": "lg", "gpu": "A100", "gpus": 8, "since": "2025-08-01"}])
    with pytest.raises(ValidationError, match="exceed the budget"):
        programme(budget={"gpus": 1000})
    with pytest.raises(ValidationError, match="either `gpus` or `multiplier`"):
        programme(growth=[{"stage": "s1", "gpus": 768, "gpu": "B200", "multiplier": 2}])
    custom = programme(gpu_types={"A100": 0.5}, allocations=[{"team": "lg", "gpu": "A100", "gpus": 8,
                                                               "since": "2025-08-01"}])
    assert custom.resources.gpu_types == {"H100": 1.0, "H200": 1.0, "B200": 2.0, "A100": 0.5}


def test_unknown_teams_and_stages_are_named():
    with pytest.raises(ValidationError, match="resources: growth at unknown stage 's9'"):
        programme(growth=[{"stage": "s9", "multiplier": 2}])
    assert check_resources(programme()) == []  # the file lists no teams: teams registered later are not checked
    teams = [{"id": t, "name": t, "members": [{"name": "Kim", "role": "student"}]} for t in ("lg", "skt", "upstage")]
    with pytest.raises(ValidationError, match="resources: allocation for unknown team 'nc'"):
        Programme.model_validate(programme().model_dump() | {"teams": teams})


def test_csv_has_a_header_and_one_line_per_entry():
    p = programme()
    entries = initial_entries(p)
    lines = csv_text(entries).splitlines()
    assert lines[0] == "holder,kind,resource,amount,unit,effective,step,stage,decision,reason"
    assert len(lines) == len(entries) + 1
    assert lines[1].startswith("lg,gpu,B200,512,GPU,2025-08-01,initial,,,")


def test_chart_is_a_png_with_captions_in_both_languages():
    p = programme()
    entries = initial_entries(p) + after_decision(initial_entries(p), OUTCOMES, p.resources, DECIDED)
    chart = ledger_chart(entries, p.resources.gpu_types, {"lg": "LG AI Research"})
    assert chart.png.startswith(b"\x89PNG") and chart.png == ledger_chart(entries, p.resources.gpu_types,
                                                                         {"lg": "LG AI Research"}).png
    assert "H100-equivalents" in chart.caption_en and "H100 환산" in chart.caption_ko


def test_a_gpu_type_the_rules_do_not_know_is_a_one_line_error():
    from dokja.resources import ResourcesError

    p = programme(gpu_types={"A100": 0.5}, allocations=[{"team": "lg", "gpu": "A100", "gpus": 8,
                                                          "since": "2025-08-01"}])
    with pytest.raises(ResourcesError, match="unknown GPU type 'A100'"):
        holdings(initial_entries(p))  # the default types only
    assert holdings(initial_entries(p), types=p.resources.gpu_types)["lg"].h100e == 4
