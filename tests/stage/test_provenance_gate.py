"""The independence gate reads the stored provenance verdicts, beside the reviewers' findings and the exact
checkpoint-hash match; a reviewer's note with a verdict stands over the automatic one."""

from __future__ import annotations

from dokja.provenance import library as lib
from dokja.provenance.records import add_note, gate_view, record_check
from dokja.provenance.verdict import check
from dokja.stage.gather import decide_from_store, independence
from dokja.stage.inputs import Finding


def _copy_verdict(name: str) -> dict:
    """A real verdict: the bundled SmolLM2 fingerprint checked, under another name, against the library."""
    entries = lib.entries()
    smol = next(e for e in entries if e.name == "SmolLM2-135M-Instruct")
    smol.name = name
    return check(smol, lib.entries(), lib.null())


def test_independence_combines_findings_hash_and_provenance():
    derived = {"passed": False, "summary": "derived from X (mlp)", "notes": []}
    cleared = {"passed": True, "summary": "derived from X (mlp)",
               "notes": [{"note": "licensed and declared", "passed": True, "reviewer": "Park"}]}
    assert independence(None, None, None) is None
    f = independence(Finding(True, "reviewed"), None, derived)
    assert not f.passed and f.note == "provenance: derived from X (mlp); reviewed"
    f = independence(None, None, cleared)
    assert f.passed and "reviewer Park: licensed and declared" in f.note
    assert not independence(Finding(True), "Ref", cleared).passed


def test_stage_decision_uses_stored_verdicts_and_reviewer_notes(tmp_path, two_teams):
    sessions = two_teams(keep=2)
    with sessions.begin() as s:
        record_check(s, _copy_verdict("alpha-model"))
    (tmp_path / "e.csv").write_text("team,expert\nalpha,30\nbeta,20\n")
    (tmp_path / "u.csv").write_text("team,user\nalpha,20\nbeta,10\n")
    data = decide_from_store(sessions, None, tmp_path / "e.csv", tmp_path / "u.csv", None)
    rows = {t["id"]: t for t in data["teams"]}
    gate = rows["alpha"]["gates"]["independence"]
    assert not gate["passed"] and "provenance: derived from SmolLM2-135M-Instruct" in gate["note"]
    assert rows["alpha"]["outcome"] == "eliminated" and rows["beta"]["outcome"] == "advance"
    assert [p["model"] for p in data["provenance"]] == ["alpha-model"]

    with sessions.begin() as s:
        add_note(s, "alpha-model", "<b>licensed</b> and declared in the proposal", passed=True, reviewer="Park")
        assert gate_view(s, "alpha-model")["automatic"] is False
    data = decide_from_store(sessions, None, tmp_path / "e.csv", tmp_path / "u.csv", None)
    alpha = next(t for t in data["teams"] if t["id"] == "alpha")
    assert alpha["gates"]["independence"]["passed"] and "reviewer Park" in alpha["gates"]["independence"]["note"]

    from dokja.report import render_stage_report

    html = render_stage_report(data)
    assert 'id="provenance"' in html and "출처 검증" in html and 'id="chart-provenance"' in html
    assert "&lt;b&gt;licensed&lt;/b&gt;" in html and "<b>licensed" not in html
    assert "raw" in html.lower() and "mean-centred" in html
