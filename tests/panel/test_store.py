"""The panel in the store, on SQLite and PostgreSQL: reviewers, conflicts, the draw, blind scores, the close,
and the closed panel's record turned into expert points."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from dokja.audit.log import canonical_json, entries
from dokja.panel import (PanelError, assign_panel, assigned_teams, check_conflicts, close_panel, commitment,
                         declare_conflict, dismiss_conflict, enter_score, import_scores, own_scores, panel_result,
                         panel_scores, panel_status, rubric)
from dokja.panel import tables as t
from dokja.programme import Programme
from dokja.registry import programme_row
from dokja.store import schema as db

CRITERIA = ("process", "novelty", "originality", "diffusion")
KEYS = {"R1": "kim", "R2": "lee", "R3": "park", "R4": "choi", "R5": "jung", "R6": "kang"}


def score_all(s, draws, criteria=CRITERIA, base=6.0) -> None:
    """Every assigned reviewer scores every criterion: team quality plus a harsh R5."""
    quality = {"hanbit": 2.0, "mirae": 0.0, "saebyeok": 1.0}
    for d in draws:
        for n, c in enumerate(criteria):
            value = base + quality[d.team] + (n % 2) - (2.0 if d.reviewer == "R5" else 0.0)
            enter_score(s, "s1", KEYS[d.reviewer], d.team, c, value, note=f"{c} ok", via="web")


def test_importing_the_reviewers_again_changes_nothing(panel_store, tmp_path):
    from dokja.panel import import_reviewers

    with panel_store.begin() as s:
        before = len(entries(s))
        rows = import_reviewers(s, tmp_path / "reviewers.toml")
        assert [r.pseudonym for r in rows] == list(KEYS) and len(entries(s)) == before
        kinds = [e.kind for e in entries(s)]
        assert kinds.count("reviewer registered") == 6 and kinds.count("conflict declared") == 1


def test_conflicts_are_detected_declared_logged_and_dismissed(panel_store):
    with panel_store.begin() as s:
        checks = {(c.reviewer, c.team): c for c in check_conflicts(s, "s1")}
        conflicted = {k for k, c in checks.items() if c.conflicted}
        assert conflicted == {("R1", "hanbit"), ("R2", "saebyeok"), ("R4", "mirae")}
        assert checks[("R2", "saebyeok")].reasons[0].startswith("worked at Upstage until 2024-01-31")
        assert checks[("R3", "mirae")].reasons[0].startswith("clear:")  # left SK Telecom in 2020
        logged = [e for e in entries(s) if e.kind == "conflict checked"]
        assert len(logged) == 18 and all(e.payload["reasons"] for e in logged)
        assert not any("Kim" in str(e.payload) or "kim" == e.payload.get("reviewer") for e in entries(s))
    with panel_store.begin() as s:
        with pytest.raises(PanelError, match="needs the office's reason"):
            dismiss_conflict(s, "s1", "kim", "hanbit", " ")
        with pytest.raises(PanelError, match="R5 has no conflict with team hanbit"):
            dismiss_conflict(s, "s1", "jung", "hanbit", "nothing to dismiss")
        after = dismiss_conflict(s, "s1", "kim", "hanbit", "KAIST's department differs; the office checked")
        assert not after.conflicted and after.dismissed
        declare_conflict(s, "kang", "hanbit", "reviewed its grant proposal")
        assert [e.kind for e in entries(s)][-2:] == ["conflict dismissed", "conflict declared"]
    with panel_store.begin() as s:
        checks = {(c.reviewer, c.team): c for c in check_conflicts(s, "s1")}
        assert not checks[("R1", "hanbit")].conflicted and checks[("R6", "hanbit")].conflicted


def test_the_draw_is_k_per_team_never_conflicted_and_reproducible(panel_store):
    with panel_store.begin() as s:
        assert panel_status(s, "s1") == "unassigned"
        draws = assign_panel(s, "s1")
        assert panel_status(s, "s1") == "open"
        assert {d.team: sum(x.team == d.team for x in draws) for d in draws} == {"hanbit": 3, "mirae": 3,
                                                                                "saebyeok": 3}
        assert not {(d.reviewer, d.team) for d in draws} & {("R1", "hanbit"), ("R2", "saebyeok"), ("R4", "mirae")}
        assert {d.probability for d in draws} == {3 / 5}
        assert assign_panel(s, "s1") == draws  # same seed, same draw
        logged = [e for e in entries(s) if e.kind == "panel assigned"][-1].payload
        assert logged["seed"] == 11 and len(logged["assignments"]) == 9
        assert s.scalar(select(func.count()).select_from(t.Assignment)) == 9
        for reviewer in KEYS:
            assert assigned_teams(s, "s1", KEYS[reviewer]) == sorted(d.team for d in draws if d.reviewer == reviewer)


def test_too_few_eligible_reviewers_is_refused_in_the_store(tmp_path, sqlite_url):
    from .conftest import PROGRAMME, build

    sessions = build(sqlite_url, tmp_path, {**PROGRAMME, "panel": {"reviewers_per_team": 6}})
    with sessions.begin() as s, pytest.raises(PanelError, match="team hanbit has only 5 eligible reviewers; "
                                                                "reviewers_per_team is 6"):
        assign_panel(s, "s1")


def test_scores_are_refused_blind_and_replaced_before_close(panel_store):
    with panel_store.begin() as s:
        with pytest.raises(PanelError, match="not assigned yet"):
            enter_score(s, "s1", "jung", "hanbit", "novelty", 5)
        draws = assign_panel(s, "s1")
    pairs = {(d.reviewer, d.team) for d in draws}
    assert {r for r, team in pairs if team == "hanbit"} == {"R2", "R3", "R6"}  # the draw of seed 11
    with panel_store.begin() as s:  # kim somehow assigned to the team he conflicts with
        s.add(t.Assignment(stage_id=programme_row(s).stages[0].id, probability=1.0,
                           reviewer_id=s.scalar(select(t.Reviewer.id).where(t.Reviewer.key == "kim")),
                           team_id=s.scalar(select(db.Team.id).where(db.Team.key == "hanbit"))))
    refusals = [(("kim", "hanbit", "novelty", 5), "R1 has a conflict with team hanbit: works at KAIST"),
                (("jung", "hanbit", "novelty", 5), "R5 is not assigned to team hanbit"),
                (("kang", "hanbit", "style", 5), "no criterion 'style'"),
                (("kang", "hanbit", "novelty", 11), "off the scale 1–10"),
                (("kang", "hanbit", "novelty", "nan"), "is not a number"),
                (("nobody", "hanbit", "novelty", 5), "no reviewer 'nobody'")]
    for (who, team, c, v), message in refusals:
        with panel_store.begin() as s, pytest.raises(PanelError, match=message):
            enter_score(s, "s1", who, team, c, v)
    reviewer = next(r for r, tm in pairs if tm == "hanbit")
    with panel_store.begin() as s:
        enter_score(s, "s1", KEYS[reviewer], "hanbit", "novelty", 4, note="first look")
        enter_score(s, "s1", KEYS[reviewer], "hanbit", "novelty", 7.5, note="after the logs")
        assert own_scores(s, "s1", KEYS[reviewer]) == {("hanbit", "novelty"): 7.5}
        other = next(r for r, tm in pairs if r != reviewer)
        assert own_scores(s, "s1", KEYS[other]) == {}
        logged = [e.payload for e in entries(s) if e.kind == "panel score"]
        assert len(logged) == 2 and all("score" not in p and "note" not in p for p in logged)
        row = s.scalar(select(t.Score))
        assert logged[-1]["commitment"] == commitment(reviewer, "hanbit", "novelty", 7.5, "after the logs", row.salt)


def test_a_score_file_keeps_good_rows_and_names_the_refused_lines(panel_store, tmp_path):
    with panel_store.begin() as s:
        draws = assign_panel(s, "s1")
    d = draws[0]
    lines = ["reviewer,team,criterion,score,note", f"{KEYS[d.reviewer]},{d.team},process,8,clear logs",
             "kim,hanbit,process,9,", f"{KEYS[d.reviewer]},{d.team},speed,8,", "nobody,hanbit,process,5,",
             f"{KEYS[d.reviewer]},{d.team},novelty,6,"]
    (tmp_path / "scores.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with panel_store.begin() as s:
        report = import_scores(s, "s1", tmp_path / "scores.csv")
    assert report.kept == 2 and [r.line for r in report.refused] == [3, 4, 5]
    assert [r.reviewer for r in report.refused] == ["R1", d.reviewer, ""]
    assert "conflict" in report.refused[0].reason and "no criterion 'speed'" in report.refused[1].reason
    (tmp_path / "bad.csv").write_text("who,team\nx,y\n", encoding="utf-8")
    with panel_store.begin() as s, pytest.raises(PanelError, match="no reviewer, criterion, score column"):
        import_scores(s, "s1", tmp_path / "bad.csv")


def test_round_trip_close_panel_scores_panel_result(panel_store):
    with panel_store.begin() as s:
        draws = assign_panel(s, "s1")
        score_all(s, draws, CRITERIA[:3])
        with pytest.raises(PanelError, match="team hanbit has no score on criterion diffusion; the panel cannot "
                                             "close yet"):
            close_panel(s, "s1")
    with panel_store.begin() as s:
        score_all(s, draws)
        with pytest.raises(PanelError, match="still open"):
            panel_scores(s, "s1")
        record = close_panel(s, "s1")
        assert panel_status(s, "s1") == "closed"
    with panel_store.begin() as s:
        with pytest.raises(PanelError, match="is closed"):
            enter_score(s, "s1", KEYS[draws[0].reviewer], draws[0].team, "process", 5)
        with pytest.raises(PanelError, match="already has scores"):
            assign_panel(s, "s1")
    with panel_store.begin() as s:
        before = s.scalar(select(func.count()).select_from(db.AuditEntry))
        read = panel_scores(s, "s1")
        assert s.scalar(select(func.count()).select_from(db.AuditEntry)) == before  # reads never write
        spec = Programme.model_validate(programme_row(s).config)
        assert read.canonical() == record.canonical() == panel_scores(s, "s1").canonical()
        assert read.rubric == rubric(spec) and len(read.scores) == 36 and len(read.assignments) == 9
        assert {c.reviewer for c in read.conflicts} == {"R1", "R2", "R4"}
        closed = [e for e in entries(s) if e.kind == "panel closed"][-1].payload
        commitments = {e.payload["commitment"] for e in entries(s) if e.kind == "panel score"}
        assert closed["sha256"] == hashlib.sha256(canonical_json(read.model_dump(mode="json"))).hexdigest()
        assert all(commitment(r["reviewer"], r["team"], r["criterion"], r["score"], r["note"], r["salt"])
                   in commitments for r in closed["scores"]) and len(closed["scores"]) == 36
    result = panel_result(read, spec.panel)
    points = result.points()
    assert points["hanbit"] > points["saebyeok"] > points["mirae"]
    assert all(0 <= p <= 35 for p in points.values()) and len(result.agreement) == 4
    fixed = panel_result(read, spec.panel.model_copy(update={"severity": True}))
    offsets = {o.reviewer: o.offset for o in fixed.offsets if o.criterion == "process"}
    assert min(offsets, key=offsets.get) == "R5"  # the harsh reviewer, on mirae only
    assert fixed.points()["mirae"] > points["mirae"]
