"""The independence gate: one pure function over structured evidence (stored provenance verdicts, reviewers'
findings and notes, exact checkpoint-hash matches); a reviewer's note with a verdict stands over the automatic."""

from __future__ import annotations

from dokja.provenance import library as lib
from dokja.provenance.records import add_note, gate_view, record_check
from dokja.provenance.verdict import check
from dokja.stage import OfficeFiles, decide_stage
from dokja.stage.gates import independence_gate
from dokja.stage.records import Evidence, ProvenanceEvidence, ReviewerNote, Ruling


def _copy_verdict(name: str) -> dict:
    """A real verdict: the bundled SmolLM2 fingerprint checked, under another name, against the library."""
    entries = lib.entries()
    smol = next(e for e in entries if e.name == "SmolLM2-135M-Instruct")
    smol.name = name
    return check(smol, lib.entries(), lib.null())


def test_independence_combines_findings_hash_and_provenance():
    derived = ProvenanceEvidence(check_id=1, passed=False, automatic=False, summary="derived from X (mlp)")
    cleared = ProvenanceEvidence(check_id=1, passed=True, automatic=False, summary="derived from X (mlp)",
                                 notes=(ReviewerNote(note="licensed and declared", passed=True, reviewer="Park"),))
    none = independence_gate(Evidence())
    assert none.passed and none.note == "no finding recorded"
    assert not independence_gate(Evidence(), require=True).passed
    g = independence_gate(Evidence(provenance=derived, ruling=Ruling(passed=True, note="reviewed")))
    assert not g.passed and g.note == "provenance: derived from X (mlp); reviewed"
    g = independence_gate(Evidence(provenance=cleared))
    assert g.passed and "reviewer Park: licensed and declared" in g.note
    assert not independence_gate(Evidence(provenance=cleared, hash_match="Ref")).passed


def test_stage_decision_uses_stored_verdicts_and_reviewer_notes(tmp_path, two_teams):
    sessions = two_teams(keep=2)
    with sessions.begin() as s:
        record_check(s, _copy_verdict("alpha-model"))
    (tmp_path / "e.csv").write_text("team,expert\nalpha,30\nbeta,20\n")
    (tmp_path / "u.csv").write_text("team,user\nalpha,20\nbeta,10\n")
    files = OfficeFiles(expert=tmp_path / "e.csv", user=tmp_path / "u.csv")
    _, d = decide_stage(sessions, None, files)
    rows = {t.id: t for t in d.teams}
    gate = rows["alpha"].gates["independence"]
    assert not gate.passed and "provenance: derived from SmolLM2-135M-Instruct" in gate.note
    assert rows["alpha"].outcome == "eliminated" and rows["beta"].outcome == "advance"
    assert [p["model"] for p in d.provenance] == ["alpha-model"]

    with sessions.begin() as s:
        add_note(s, "alpha-model", "<b>licensed</b> and declared in the proposal", passed=True, reviewer="Park")
        assert gate_view(s, "alpha-model")["automatic"] is False
    number, d = decide_stage(sessions, None, files, reason="a reviewer's ruling")
    alpha = next(t for t in d.teams if t.id == "alpha")
    assert alpha.gates["independence"].passed and "reviewer Park" in alpha.gates["independence"].note
    assert d.supersedes == number - 1 and d.reason == "a reviewer's ruling"

    from dokja.report import render_stage_report

    html = render_stage_report(d.model_dump(mode="json"))
    assert 'id="provenance"' in html and "출처 검증" in html and 'id="chart-provenance"' in html
    assert "&lt;b&gt;licensed&lt;/b&gt;" in html and "<b>licensed" not in html
    assert "raw" in html.lower() and "mean-centred" in html
