"""A store holding a recorded decision of stage s1 (alpha and beta advance, gamma is eliminated), made by the pure
`decide` from hand-made inputs; beta is a GPU lessor until 2026-01-01, survivors grow to 768 B200."""

from __future__ import annotations

import pytest

BN = 1_000_000_000
SPEC = {
    "name": "Resources test", "name_ko": "자원 시험",
    "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30", "keep": 2},
               {"id": "s2", "name": "Stage 2", "date": "2026-08-30", "keep": 1}],
    "suites": {"ministry": ["m"], "global_common": ["g"]},
    "references": [{"name": "Frontier", "vendor": "V", "released": "2025-09-01", "scores": {"m": 0.8, "g": 0.8}}],
    "robustness": {"rounds": 0},
    "teams": [{"id": key, "name": key.title(), "name_ko": ko, "members": [{"name": "Kim", "role": "lead"},
                                                                         {"name": "Lee", "role": "student"}]}
              for key, ko in (("alpha", "알파"), ("beta", "베타"), ("gamma", "감마"))],
    "resources": {
        "budget": {"gpus": 5000, "joint_data": 10 * BN, "talent": 8 * BN},
        "lessors": [{"team": "beta", "until": "2026-01-01"}],
        "allocations": [{"team": t, "gpu": gpu, "gpus": n, "since": "2025-08-01", "joint_data": 2 * BN,
                         "own_data": own, "talent": 2 * BN}
                        for t, gpu, n, own in (("alpha", "B200", 512, 5 * BN), ("beta", "B200", 512, 3 * BN),
                                               ("gamma", "H100", 1024, 4 * BN))],
        "return_days": 10,
        "growth": [{"stage": "s1", "gpus": 768, "gpu": "B200"}]},
}
REFS = [{"name": "Frontier", "vendor": "V", "released": "2025-09-01", "published": {"m": 0.8, "g": 0.8}}]
TEAMS = {"alpha": {"scores": {"m": [1, 1, 0], "g": [1, 0, 1]}, "expert": 30, "user": 20},
         "beta": {"scores": {"m": [1, 0, 0], "g": [0, 0, 1]}, "expert": 25, "user": 15},
         "gamma": {"scores": {"m": [0, 0, 0], "g": [0, 1, 0]}, "expert": 20, "user": 10}}


@pytest.fixture
def decided(store_url, make_inputs):
    """Sessions of a store whose stage s1 has one recorded decision (made 2025-12-30)."""
    from dokja.programme.schema import Programme
    from dokja.registry import import_programme, programme_row, stage_row
    from dokja.stage import decide
    from dokja.stage.record import keep_decision
    from dokja.store import open_store

    sessions = open_store(store_url)
    inputs = make_inputs(SPEC, TEAMS, REFS)
    with sessions.begin() as s:
        import_programme(s, Programme.model_validate(SPEC), "name = 'Resources test'")
        keep_decision(s, stage_row(s, programme_row(s), "s1"), inputs, decide(inputs))
    return sessions
