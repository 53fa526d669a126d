"""The report's fixture is a real decision: `decide` run on hand-made inputs for six teams."""

from __future__ import annotations

import datetime as dt

import pytest

from dokja.stage import decide
from dokja.stage.records import Evidence, Ruling

SPEC = {"name": "Independent AI Foundation Model — demo", "name_ko": "독자 AI 파운데이션 모델 — 데모",
        "stages": [{"id": "stage-1", "name": "Stage 1", "name_ko": "1차 단계평가", "date": "2025-12-30", "keep": 3}],
        "suites": {"ministry": ["kobest_copa", "kobest_boolq"], "global_common": ["arc_easy", "hellaswag", "mmlu"],
                   "global_individual": ["kmmlu", "gsm8k"]},
        "gates": {"safety_suite": "kobest_boolq", "safety_min_score": 0.3}, "robustness": {"rounds": 50}}
SUITES = SPEC["suites"]["ministry"] + SPEC["suites"]["global_common"] + SPEC["suites"]["global_individual"]
REFS = [{"name": "Gemma 3 270M", "vendor": "Google", "released": dt.date(2025, 8, 14),
         "published": dict.fromkeys(SUITES, 0.6)},
        {"name": "LFM2-350M", "vendor": "Liquid AI", "released": dt.date(2025, 7, 10),
         "published": dict.fromkeys(SUITES, 0.55)},
        {"name": "Qwen3-0.6B", "vendor": "Alibaba", "released": dt.date(2025, 4, 29),
         "published": dict.fromkeys(SUITES, 0.7)},
        {"name": "SmolLM2-135M-Instruct", "vendor": "Hugging Face", "released": dt.date(2024, 11, 1),
         "published": dict.fromkeys(SUITES, 0.5)}]


def items(correct: int, n: int = 20) -> list[float]:
    return [1.0] * correct + [0.0] * (n - correct)


def team(name, name_ko, correct, expert, user, **kw):
    return {"name": name, "name_ko": name_ko, "model": f"{name.split()[-1].lower()}-1.0",
            "scores": {s: items(c) for s, c in zip(SUITES, correct)}, "expert": expert, "user": user,
            "target": "Gemma 3 270M", **kw}


TEAMS = {
    "hanbit": team("Team Hanbit", "한빛 컨소시엄", [14, 12, 13, 12, 11, 12, 12], 31.6, 25.0),
    "arirang": team("Team Arirang", "아리랑 AI 연합", [12, 11, 11, 10, 10, 10, 9], 28.0, 20.0),
    "saebyeok": team("Team Saebyeok", "새벽 연구단", [10, 10, 9, 9, 9, 8, 8], 26.0, 18.0),
    "haneul": team("Team Haneul", "하늘 컨소시엄", [9, 9, 8, 8, 8, 7, 7], 22.0, 15.0),
    "baram": team("Team Baram", "바람 랩", [13, 4, 12, 12, 12, 12, 12], 30.0, 22.0),
    "nuri": team("Team Nuri", "누리 AI", [15, 13, 14, 14, 14, 14, 14], 33.0, 24.0,
                 evidence=Evidence(ruling=Ruling(passed=False, note="vision encoder copied from a foreign model"))),
}


@pytest.fixture(scope="session")
def decision(make_inputs):
    return decide(make_inputs(SPEC, TEAMS, REFS))


@pytest.fixture(scope="module")
def sample(decision) -> dict:
    return decision.model_dump(mode="json")
