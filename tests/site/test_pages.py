"""The pages over a real store: only published decisions, at the programme's disclosure level; reviewers'
blind scores; a team's grievance; sessions and refusals."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import pytest

from dokja.site.public import bundle_bytes
from dokja.site.results import stage_result
from dokja.store import open_store


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-team="([^"]+)"', html)


def test_the_public_sees_the_published_stage_without_points(as_user):
    page = as_user(None).get("/results/stage-1")
    assert page.status_code == 200
    assert rows(page.text) == ["hanbit", "dasan", "nuri"]
    assert "Team Hanbit" in page.text and "한빛" in page.text
    assert 'class="num total"' not in page.text, "public disclosure: no points"
    assert "Not published" not in page.text and "scores are withheld" in page.text


def test_an_unpublished_decision_is_the_offices_only(as_user):
    for name in (None, "dasan", "rev-a"):
        page = as_user(name).get("/results/stage-2").text
        assert rows(page) == [] and "No result published yet" in page and "아직 공개된 결과가 없습니다" in page
    office = as_user("office").get("/results/stage-2").text
    assert rows(office) == ["hanbit", "dasan", "nuri"] and 'id="unpublished"' in office
    assert office.count('class="num total"') == 3
    assert "panel-status" in as_user("office").get("/office").text


def test_a_team_sees_its_own_points_and_no_one_elses(as_user):
    page = as_user("dasan").get("/results/stage-1").text
    mine = re.search(r'<tr data-team="dasan">.*?</tr>', page, re.S).group(0)
    assert 'class="num total"' in mine and page.count('class="num total"') == 1
    home = as_user("dasan").get("/team").text
    assert 'id="own-result-stage-1"' in home and "total" in home and "hanbit" not in home.lower().split("<main>")[1]


def test_user_text_is_escaped_everywhere(as_user):
    page = as_user(None).get("/results/stage-1").text
    assert "Team Nuri &lt;b&gt;누리&lt;/b&gt;" in page and "<b>누리</b>" not in page


PATHS = ["/results", "/results/stage-1", "/results/stage-2", "/results/stage-1/grievances", "/teams/nuri",
         "/resources", "/verify", "/office", "/team", "/review", "/review/stage-1/dasan", "/leaderboard",
         "/votes.csv", "/votes.jsonl", "/leaderboard.json"]


def test_no_page_shows_a_sealed_suites_items(as_user, canary):
    for name in (None, "office", "dasan", "rev-a"):
        client = as_user(name)
        for path in PATHS:
            assert canary not in client.get(path).text, (name, path)


def test_a_reviewer_scores_an_assigned_team_and_sees_only_their_own(as_user, csrf_of, world):
    from dokja.panel import own_scores, rubric
    from dokja.site.reads import programme

    reviewer = as_user("rev-a")
    form = reviewer.get("/review/stage-1/dasan").text
    assert "Training and design process" in form and "학습 및 설계 과정" in form
    assert "complete, reproducible account" in form, "the rubric's anchors"
    sent = reviewer.post("/review/stage-1/dasan", data={"csrf": csrf_of(reviewer), "score-process": "7",
                                                         "score-novelty": "4", "note-novelty": "<i>thin</i>"})
    assert sent.status_code == 303, sent.text
    again = reviewer.get("/review/stage-1/dasan").text
    assert re.search(r'<option value="7" selected>', again)
    off = reviewer.post("/review/stage-1/dasan", data={"csrf": csrf_of(reviewer), "score-process": "11"})
    assert off.status_code == 422 and "off the scale" in off.text
    with open_store(world).begin() as s:
        assert own_scores(s, "stage-1", "rev-a") == {("dasan", "process"): 7.0, ("dasan", "novelty"): 4.0}
        assert len(rubric(programme(s))) == 4
    other = as_user("rev-b")
    assert other.get("/review/stage-1/dasan").status_code == 403
    assert 'class="mine"' not in other.get("/review/stage-1/nuri").text, "nobody else's scores"
    assert [t for t in re.findall(r'data-team="([^"]+)"', other.get("/review").text)] == ["nuri"]


def test_a_team_files_a_grievance_with_evidence(as_user, csrf_of):
    team = as_user("nuri")
    home = team.get("/team").text
    assert 'id="grievance-form"' in home and "평가 절차상의 중대한 하자" in home
    sent = team.post("/team/stage-1/grievance", data={"csrf": csrf_of(team), "kind": "process_defect",
                                                       "grounds": "The <script>x</script> suite was mis-scored."},
                     files=[("files", ("log.txt", b"evidence bytes", "text/plain"))])
    assert sent.status_code == 303, sent.text
    home = team.get("/team").text
    assert "process_defect" in home and "&lt;script&gt;" in home and "log.txt" in home
    timeline = as_user(None).get("/results/stage-1/grievances").text
    assert "Team Nuri" in timeline and "filed" in timeline and "mis-scored" not in timeline, "grounds stay private"
    assert "mis-scored" not in as_user("dasan").get("/team").text
    late = team.post("/team/stage-2/grievance", data={"csrf": csrf_of(team), "kind": "process_defect",
                                                       "grounds": "x"})
    assert late.status_code == 422 and 'id="team-error"' in late.text


def test_an_upload_past_the_cap_is_413(as_user, csrf_of):
    team = as_user("nuri")
    big = team.post("/team/stage-1/grievance", data={"csrf": csrf_of(team), "kind": "process_defect",
                                                      "grounds": "x"}, files=[("files", ("big.bin", b"0" * 70_000))])
    assert big.status_code == 413 and "too large" in big.text and "너무 큽니다" in big.text


def test_the_session_cookie_is_httponly_lax_and_secure_on_https(site):
    from fastapi.testclient import TestClient

    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        cookie = TestClient(site, base_url=base).get("/login").headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and ("Secure" in cookie) == secure


def test_repeated_failed_sign_ins_are_refused_in_one_bilingual_line(site, csrf_of):
    from fastapi.testclient import TestClient

    client = TestClient(site, follow_redirects=False)
    codes = []
    for _ in range(6):
        answer = client.post("/login", data={"csrf": csrf_of(client), "name": "rev-c", "password": "wrong one"})
        codes.append(answer.status_code)
    assert codes == [401] * 5 + [429]
    line = re.search(r'id="login-error">([^<]*)<', answer.text).group(1)
    assert "Too many failed sign-ins" in line and "로그인 실패가 너무 많습니다" in line


def test_sign_out_ends_the_session(as_user, csrf_of):
    client = as_user("office")
    assert client.get("/office").status_code == 200
    assert client.post("/logout", data={"csrf": csrf_of(client)}).status_code == 303
    assert client.get("/office").status_code == 303


def test_an_outside_next_is_ignored_at_sign_in(site, csrf_of):
    from fastapi.testclient import TestClient

    client = TestClient(site, follow_redirects=False)
    done = client.post("/login", data={"csrf": csrf_of(client), "name": "office", "password": "a long enough "
                                       "password", "next": "//elsewhere.example/x"})
    assert done.headers["location"] == "/office"


def _zip(manifest: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
    return buf.getvalue()


@pytest.mark.parametrize("manifest,disclosure,served", [
    ({"stage": "stage-1", "decision": 1, "level": "public"}, "public", True),
    ({"stage": "stage-1", "decision": 1, "level": "full"}, "public", False),  # never more than disclosed
    ({"stage": "stage-1", "decision": 1, "level": "full"}, "full", True),
    ({"stage": "stage-1", "decision": 2, "level": "public"}, "public", False),  # not the published decision
    ({"stage": "stage-2", "decision": 1, "level": "public"}, "public", False),
])
def test_a_bundle_is_served_only_for_the_published_decision_at_its_level(tmp_path, manifest, disclosure, served):
    (tmp_path / "stage-1.zip").write_bytes(_zip(manifest))
    assert (bundle_bytes(tmp_path, "stage-1", 1, disclosure) is not None) == served
    assert bundle_bytes(tmp_path, "../stage-1", 1, disclosure) is None


def test_the_published_bundle_downloads_and_says_how_to_verify(site, as_user):
    folder = site.app.state.site.settings.bundles
    (folder / "stage-1.zip").write_bytes(_zip({"stage": "stage-1", "decision": 1, "level": "public"}))
    client = as_user(None)
    assert 'id="bundle"' in client.get("/results/stage-1").text
    assert client.get("/results/stage-1/bundle.zip").content.startswith(b"PK")
    assert client.get("/results/stage-2/bundle.zip").status_code == 404
    verify = client.get("/verify").text
    assert "pip install dokja" in verify and "dokja verify bundle.zip" in verify and "검증" in verify


def test_full_disclosure_shows_every_teams_points_golden(make_inputs):
    from dokja.stage import decide

    spec = {"name": "P", "stages": [{"id": "s", "name": "S", "date": "2025-12-30", "keep": 1}],
            "suites": {"ministry": ["m"], "global_common": ["g"], "global_individual": ["i"]},
            "robustness": {"rounds": 0}}
    team = {"scores": {"m": [1.0, 0.0], "g": [1.0, 1.0], "i": [0.0, 1.0]}, "expert": 20.0, "user": 10.0}
    ref = {"name": "R", "released": dt.date(2025, 9, 1), "published": {"m": 1, "g": 1, "i": 1}}
    data = decide(make_inputs(spec, {"a": team, "b": {**team, "expert": 10.0}}, [ref])).model_dump(mode="json")
    full = stage_result(data, 7, level="full", published_at=None)
    public = stage_result(data, 7, level="public", published_at=None, own_team="b")
    assert [(t.id, t.rank, t.outcome, t.total) for t in full.teams] == [("a", 1, "advance", 60.0),
                                                                         ("b", 2, "eliminated", 50.0)]
    assert full.team("a").points == (("benchmark", 30.0), ("expert", 20.0), ("user", 10.0))
    assert public.team("a").points is None and public.team("a").total is None
    assert public.team("b").total == 50.0 and public.team("a").gates == full.team("a").gates
