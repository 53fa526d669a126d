"""A store with a programme of three teams (member organisations named), their submissions to the first stage,
and six reviewers: one working at a member organisation, one who left another within three years, one who
left long ago, one who declared a conflict, two clear."""

from __future__ import annotations

import pytest

PROGRAMME = {
    "name": "Panel test programme", "name_ko": "평가단 시험",
    "stages": [{"id": "s1", "name": "Stage 1", "date": "2025-12-30", "keep": 2}],
    "panel": {"reviewers_per_team": 3, "seed": 11, "bootstrap_rounds": 200},
    "teams": [
        {"id": "hanbit", "name": "Hanbit", "members": [{"name": "A", "role": "lead", "organisation": "LG AI Research"},
                                                       {"name": "B", "role": "student", "organisation": "KAIST"}]},
        {"id": "mirae", "name": "Mirae", "members": [{"name": "C", "role": "lead", "organisation": "SK Telecom"},
                                                     {"name": "D", "role": "student",
                                                      "organisation": "Korea University"}]},
        {"id": "saebyeok", "name": "Saebyeok", "members": [{"name": "E", "role": "lead", "organisation": "Upstage"},
                                                           {"name": "F", "role": "student",
                                                            "organisation": "Yonsei University"}]}],
    "models": [{"name": f"{t}-m", "location": "http://127.0.0.1:9/v1", "team": t}
               for t in ("hanbit", "mirae", "saebyeok")],
}

REVIEWERS = """
[[reviewers]]
key = "kim"
name = "Kim Minsu"
affiliation = "kaist"
origin = "domestic"

[[reviewers]]
key = "lee"
name = "Lee Jiwon"
affiliation = "Seoul National University"
origin = "domestic"
[[reviewers.affiliations]]
organisation = "Upstage"
start = 2020-03-01
end = 2024-01-31

[[reviewers]]
key = "park"
name = "Park Soyeon"
affiliation = "ETH Zurich"
origin = "international"
[[reviewers.affiliations]]
organisation = "SK  Telecom"
start = 2012-01-01
end = 2020-06-30

[[reviewers]]
key = "choi"
name = "Choi Hyun"
affiliation = "Stanford University"
origin = "international"
[[reviewers.conflicts]]
team = "mirae"
reason = "advised the team's student member"

[[reviewers]]
key = "jung"
name = "Jung Eun"
affiliation = "POSTECH"
origin = "domestic"

[[reviewers]]
key = "kang"
name = "Kang Dae"
affiliation = "University of Toronto"
origin = "international"
"""


def build(url: str, folder, programme: dict = PROGRAMME):
    from dokja.panel import import_reviewers
    from dokja.programme import Programme
    from dokja.registry import import_programme
    from dokja.store import open_store

    sessions = open_store(url)
    (folder / "reviewers.toml").write_text(REVIEWERS, encoding="utf-8")
    with sessions.begin() as s:
        import_programme(s, Programme.model_validate(programme), "programme")
        import_reviewers(s, folder / "reviewers.toml")
    return sessions


@pytest.fixture
def panel_store(store_url, tmp_path):
    return build(store_url, tmp_path)
