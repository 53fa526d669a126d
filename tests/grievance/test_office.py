"""Publication, filing within the window, waivers, rulings and finality, every time from an injected clock."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from dokja.audit.log import entries
from dokja.grievance import (GROUNDS, GrievanceError, file_grievance, finalise, publish, rule, team_grievances,
                             timeline, waive, window)
from dokja.grievance import tables as tbl

from .conftest import PUBLISHED, kst

GROUNDS_TEXT = "The safety suite was run with the wrong few-shot setting for our model."


def file(sessions, team="beta", now=kst(2026, 1, 5, 10, 0), kind="process_defect", files=()):
    with sessions.begin() as s:
        return file_grievance(s, "s1", team, kind, GROUNDS_TEXT, list(files), now)


def test_publication_opens_the_window_and_is_logged(published):
    with published.begin() as s:
        w = window(s, "s1", kst(2026, 1, 3, 9, 0))
        logged = [e for e in entries(s) if e.kind == "decision published"]
    assert w.open and not w.final and w.deadline == kst(2026, 1, 13, 0, 0)
    assert w.deadline_text == "2026-01-12 24:00 KST" and w.eliminated == ("beta", "gamma")
    assert len(logged) == 1 and logged[0].payload["decision"] == w.decision
    with published.begin() as s, pytest.raises(GrievanceError, match="already published"):
        publish(s, "s1", PUBLISHED)


@pytest.mark.parametrize("now", [kst(2026, 1, 2, 15, 1), kst(2026, 1, 8, 12, 0), kst(2026, 1, 12, 23, 59),
                                 kst(2026, 1, 12, 23, 59, 59)], ids=["at once", "in time", "last minute",
                                                                     "last second"])
def test_a_grievance_in_time_is_filed(published, now):
    number = file(published, now=now)
    with published.begin() as s:
        (view,) = team_grievances(s, "s1", "beta")
    assert view.id == number and view.state == "filed" and view.filed_at == now


@pytest.mark.parametrize("now", [kst(2026, 1, 13, 0, 0), kst(2026, 1, 13, 0, 1), kst(2026, 2, 1, 9, 0)],
                         ids=["at 24:00", "one minute late", "weeks late"])
def test_a_late_grievance_names_the_deadline(published, now):
    with pytest.raises(GrievanceError) as caught:
        file(published, now=now)
    assert str(caught.value) == "the grievance window of s1 closed at 2026-01-12 24:00 KST"


def test_only_eliminated_teams_and_only_published_decisions(decided, published):
    with pytest.raises(GrievanceError, match="team 'alpha' was not eliminated"):
        file(published, team="alpha")
    fresh = decided()
    with pytest.raises(GrievanceError, match="is not published"):
        file(fresh)


def test_evidence_is_stored_with_its_hash_and_only_the_hash_is_logged(published):
    content = "few-shot = 5 in the log, 0 in the programme\n".encode() * 10
    number = file(published, files=[("../notes/log.txt", content)])
    with published.begin() as s:
        stored = s.scalars(select(tbl.GrievanceFile)).one()
        (entry,) = [e for e in entries(s) if e.kind == "grievance filed"]
    assert stored.name == "log.txt" and stored.content == content and stored.size == len(content)
    assert entry.payload["files"] == [{"name": "log.txt", "sha256": hashlib.sha256(content).hexdigest(),
                                       "size": len(content)}]
    assert entry.payload["grievance"] == number and GROUNDS_TEXT not in str(entry.payload)


def test_oversize_evidence_and_empty_grounds_are_refused(published):
    big = b"x" * (20 * 1024 * 1024 + 1)
    with pytest.raises(GrievanceError, match="evidence file 'dump.bin' is 20,971,521 bytes; the limit is"):
        file(published, files=[("dump.bin", big)])
    with published.begin() as s, pytest.raises(GrievanceError, match="grounds in writing"):
        file_grievance(s, "s1", "beta", "process_defect", "  ", [], kst(2026, 1, 5))
    with pytest.raises(GrievanceError, match="unknown grounds 'mood'"):
        file(published, kind="mood")


def test_waivers_close_the_window_early(published):
    with published.begin() as s:
        first = waive(s, "s1", "beta", kst(2026, 1, 3, 10, 0))
    assert first.open and first.waived == ("beta",)
    with pytest.raises(GrievanceError, match="waived its right"):
        file(published, team="beta")
    with published.begin() as s:
        w = waive(s, "s1", "gamma", kst(2026, 1, 4, 10, 0))
    assert not w.open and w.closed_early and w.final
    with pytest.raises(GrievanceError, match="team 'gamma' waived its right to file at 2026-01-04 10:00 KST"):
        file(published, team="gamma", now=kst(2026, 1, 4, 11, 0))
    with published.begin() as s:
        done = finalise(s, "s1", kst(2026, 1, 4, 12, 0))
        kinds = [e.kind for e in entries(s)]
    assert done.final_at == kst(2026, 1, 4, 12, 0) and kinds.count("results final") == 1
    assert kinds.count("grievance waived") == 2
    with published.begin() as s, pytest.raises(GrievanceError, match="already final"):
        finalise(s, "s1", kst(2026, 1, 20))


def test_rulings_need_reasons_and_follow_the_table(published):
    number = file(published)
    now = kst(2026, 1, 14, 10, 0)
    with published.begin() as s:
        with pytest.raises(GrievanceError, match="written reason"):
            rule(s, number, "admit", "  ", now)
        with pytest.raises(GrievanceError, match="a grievance that is filed cannot take 'uphold'"):
            rule(s, number, "uphold", "obviously", now)
        for action in ("admit", "review", "request_information", "resume", "dismiss"):
            view = rule(s, number, action, f"office: {action}", now)
        assert view.state == "dismissed" and [r.action for r in view.rulings][-1] == "dismiss"
    with published.begin() as s:
        w = window(s, "s1", now)
        assert not w.open and not w.final and w.why_not_final == f"grievance {number} still open"
        with pytest.raises(GrievanceError, match="cannot be final yet: grievance"):
            finalise(s, "s1", now)
        rule(s, number, "close", "dismissed: the setting was the programme's", now)
        assert window(s, "s1", now).final
        assert sum(e.kind == "grievance ruled" for e in entries(s)) == 6


def test_only_process_defects_are_admissible(published):
    number = file(published, kind="score_disagreement")
    with published.begin() as s:
        with pytest.raises(GrievanceError, match="only a defect in the evaluation process is admissible"):
            rule(s, number, "admit", "looks fine", kst(2026, 1, 6))
        assert rule(s, number, "rule_out", "a score is not a process defect", kst(2026, 1, 6)).state == "out_of_scope"


def test_an_upheld_grievance_cannot_close_before_its_remedy(published):
    number = file(published)
    with published.begin() as s:
        for action in ("admit", "review", "uphold"):
            rule(s, number, action, "the few-shot setting was wrong", kst(2026, 1, 6))
        with pytest.raises(GrievanceError, match="re-run the affected part"):
            rule(s, number, "close", "done", kst(2026, 1, 7))


def test_the_public_timeline_carries_no_grounds_or_files(published):
    number = file(published, files=[("log.txt", b"secret")])
    with published.begin() as s:
        rule(s, number, "admit", "a process defect is claimed", kst(2026, 1, 6))
        (public,) = timeline(s, "s1")
        (own,) = team_grievances(s, "s1", "beta")
    assert public.grounds == "" and public.files == () and public.rulings[0].reason == "a process defect is claimed"
    assert own.grounds == GROUNDS_TEXT and own.files[0].sha256 == hashlib.sha256(b"secret").hexdigest()
    assert set(GROUNDS) >= {"process_defect", "score_disagreement", "rules"}
    assert all(en and ko for en, ko in GROUNDS.values())
