"""Stage report: self-contained, bilingual, escapes untrusted text, survives missing data."""

from __future__ import annotations

import copy
import html
import json
import re
import warnings
from pathlib import Path

import pytest

from dokja.report import render_stage_report, write_stage_report
from dokja.report import charts

@pytest.fixture(scope="module")
def page(sample) -> str:
    return render_stage_report(sample)


def text_of(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    no_tags = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|title)\b.*?</\1>", " ", markup, flags=re.S))
    return re.sub(r" ([:,.;)])", r"\1", " ".join(html.unescape(no_tags).split()))


def svgs(markup: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(r'<svg id="([\w-]+)".*?</svg>', markup, flags=re.S)}


def test_is_a_complete_html_document(page):
    assert page.lstrip().startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert 'name="viewport"' in page
    assert page.rstrip().endswith("</html>")


def test_is_self_contained(page):
    # Nothing the browser would fetch: no scripts, stylesheets, external src/href or CSS imports.
    assert re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, flags=re.I) is None
    for forbidden in ("<script", "<link", "<iframe", "<img", "@import", "url(http"):
        assert forbidden not in page.lower(), forbidden
    # The sample carries no URLs, so any here would be ours (e.g. matplotlib's metadata).
    assert re.search(r"https?://", page) is None


def test_sections_in_reading_order(page):
    order = ['class="masthead"', 'id="decision"', 'id="teams"', 'id="points-chart"',
             'id="ratio-chart"', 'id="suites"', 'id="frontier"', "<footer>"]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_labels_are_bilingual(page):
    text = text_of(page)
    for en, ko in [("Total", "총점"), ("Decision", "평가 결과"), ("Advance", "진출"), ("Eliminated", "탈락"),
                   ("Teams", "참여 팀"), ("Frontier references", "프런티어 기준 모델"),
                   ("Benchmark suites", "벤치마크 구성"), ("Generated", "생성 시각"), ("Target", "목표")]:
        assert f"{en} · {ko}" in text, (en, ko)
    assert "Stage 1 · 1차 단계평가" in text
    assert "독자 AI 파운데이션 모델 — 데모" in text


def test_every_team_is_shown(sample, page):
    text = text_of(page)
    for team in sample["teams"]:
        assert team["name"] in text
        assert team["name_ko"] in text
        assert team["model"] in text


def test_decision_summary(sample, page):
    decision = page[page.index('id="decision"'): page.index('id="teams"')]
    text = text_of(decision)
    assert "3 of 6 teams advance" in text and "6개 팀 중 3개 팀 진출" in text
    advance = text[text.index("Advance · 진출"): text.index("Eliminated · 탈락")]
    eliminated = text[text.index("Eliminated · 탈락"):]
    for team in sample["teams"]:
        section = advance if team["outcome"] == "advance" else eliminated
        assert team["name"] in section, team["name"]
        assert team["reason"] in section
    # The gate that eliminated a high scorer is named, in both languages.
    assert "Gate failed · 게이트 미통과: Independence · 독자성" in eliminated
    assert "Gate failed · 게이트 미통과: Safety · 안전성" in eliminated


def test_teams_table_order_and_flags(sample, page):
    table = page[page.index('id="teams"'): page.index('id="points-chart"')]
    text = text_of(table)
    names = ["Team Hanbit", "Team Arirang", "Team Saebyeok", "Team Haneul", "Team Baram", "Team Nuri"]
    positions = [text.index(n) for n in names]
    assert positions == sorted(positions), "rank order, eliminated after advancing, gate failures last"
    # Target and gates carry a symbol and words, not only a colour.
    assert "✓ Met 달성" in text or "✓ Met · 달성" in text
    assert "✗ Not met" in text and "미달" in text
    assert "✗ Fail" in text and "✓ Pass" in text
    hanbit = next(t for t in sample["teams"] if t["id"] == "hanbit")
    assert f"{hanbit['total']:.1f}" in text and f"{hanbit['frontier_ratio']:.1%}" in text


def test_charts_are_inline_svg_with_text_kept_as_text(page):
    found = svgs(page)
    assert set(found) == {"chart-points", "chart-ratios", "chart-frontier", "chart-odds"}
    for svg in found.values():
        assert 'role="img"' in svg and "<title>" in svg
        assert "<text" in svg, "svg.fonttype none keeps labels as <text>"
        assert "Noto Sans CJK KR" in svg
        assert not re.search(r'\swidth="[\d.]+pt"', svg[: svg.index(">")]), "scales with CSS"
    assert "한빛 컨소시엄" in found["chart-points"]
    assert "Gate failed" in found["chart-points"]
    assert "Target · 목표 95%" in found["chart-ratios"]
    assert "SmolLM2-135M-Instruct" in found["chart-frontier"]
    # ids are unique across the page even with several matplotlib figures on it.
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_font_stack_in_css(page):
    css = page[page.index("<style>"): page.index("</style>")]
    for family in ("Noto Sans CJK KR", "Nanum Gothic", "Malgun Gothic", "Apple SD Gothic Neo"):
        assert f'"{family}"' in css


def test_frontier_references_show_eligibility(page):
    section = page[page.index('id="frontier"'):]
    text = text_of(section[section.index("<table"):])
    assert text.index("Gemma 3 270M") < text.index("SmolLM2-135M-Instruct"), "eligible first"
    assert "✗ Not eligible · 부적격" in text
    assert "released 2024-11-01, before the window opened on 2025-06-30" in text


def test_missing_suite_score_renders_as_dash(sample):
    data = copy.deepcopy(sample)
    haneul = next(t for t in data["teams"] if t["id"] == "haneul")
    del haneul["suite_scores"]["gsm8k"]  # a decision refuses this; a damaged file may still hold it
    page = render_stage_report(data)
    assert "not run · 미실시" in svgs(page)["chart-ratios"]
    assert "—" in text_of(page[page.index('id="ratio-chart"'): page.index('id="suites"')])


def test_sparse_and_null_values_render(sample):
    data = copy.deepcopy(sample)
    team = data["teams"][0]
    team.update(total=None, frontier_ratio=None, meets_target=None, rank=None, outcome=None, reason=None)
    team["points"] = {"ministry": None, "expert": float("nan"), "user": 19.3}
    team["suite_scores"] = {"kobest_copa": {"score": None, "stderr": None, "ratio": None}}
    team["gates"] = {}
    data["teams"][1].pop("suite_scores")
    data["suites"][0]["frontier_best"] = None
    data["frontier"][0]["released"] = "unknown"
    out = render_stage_report(data)
    text = text_of(out)
    assert "Not decided · 미정" in text
    assert "Team Hanbit" in text
    assert "nan" not in text.lower().split()
    points_svg = svgs(out)["chart-points"]
    assert ">—</text>" in points_svg
    assert points_svg.count(">19.3</text>") == 1, "the segment label only: no total invented from parts"


def test_minimal_input_renders():
    out = render_stage_report({"stage": {"id": "stage-0", "name": "Stage 0"}, "teams": []})
    assert "Stage 0" in out and "0 of 0 teams advance" in text_of(out)


@pytest.mark.parametrize("field", ["name", "name_ko", "model", "reason"])
def test_hostile_text_is_escaped(sample, field):
    data = copy.deepcopy(sample)
    evil = "<script>alert(1)</script>"
    data["teams"][0][field] = evil
    data["teams"][4]["gates"]["safety"]["note"] = '"><img src=x onerror=alert(1)>'
    out = render_stage_report(data)
    assert evil not in out
    assert "<script" not in out.lower()
    assert "<img" not in out.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert evil in text_of(out), "shown to the reader as plain text"


def test_dollar_signs_are_not_mathtext(sample):
    data = copy.deepcopy(sample)
    data["teams"][0]["name"] = r"Team $\frac{1}{0}$ $$"
    out = render_stage_report(data)
    assert r"Team $\frac{1}{0}$ $$" in html.unescape(svgs(out)["chart-points"])


def test_no_font_warnings_leak(sample):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_stage_report(sample)
    assert not [w for w in caught if "Glyph" in str(w.message) or "findfont" in str(w.message)]


def test_rendering_is_deterministic(sample, page):
    assert render_stage_report(copy.deepcopy(sample)) == page


def test_write_stage_report(sample, tmp_path):
    path = write_stage_report(sample, tmp_path / "out" / "stage-1.html")
    assert isinstance(path, Path) and path.is_file()
    assert path.read_text(encoding="utf-8") == render_stage_report(sample)


def test_text_width_estimate_is_pessimistic_for_hangul():
    assert charts.text_width_pt("한빛", 10) > charts.text_width_pt("ab", 10)


def test_robustness_section_and_user_source(sample, page):
    section = page[page.index('id="robustness"'):]
    text = text_of(section[: section.index("</section>")])
    assert "How sure each outcome is · 결과의 확실성" in text and "seed 0" in text
    assert 'id="chart-odds"' in section
    for team in sample["teams"]:
        assert team["name"] in text
    assert "User points were given by hand (a CSV file), not from the arena." in text_of(page)


def test_a_near_tie_at_the_cut_is_flagged(make_inputs):
    """Two teams one item apart at the cut line: the report names the close call in words."""
    from dokja.stage import decide

    spec = {"name": "P", "stages": [{"id": "s1", "name": "S", "date": "2025-12-30", "keep": 1}],
            "suites": {"ministry": ["m"]}, "robustness": {"rounds": 200, "seed": 3}}
    mixed = [1.0, 0.0] * 10
    teams = {"a": {"scores": {"m": mixed[:19] + [1.0]}, "expert": 20.0, "user": 10.0},
             "b": {"scores": {"m": mixed[1:] + [0.0]}, "expert": 20.0, "user": 10.0}}
    refs = [{"name": "R", "released": __import__("datetime").date(2025, 9, 1), "published": {"m": 0.8}}]
    d = decide(make_inputs(spec, teams, refs))
    assert d.robustness.cut.p_flip > 0.1 and d.robustness.close_calls
    assert "is eliminated or overtaken" in d.robustness.close_calls[0].text
    assert d.robustness == decide(make_inputs(spec, teams, refs)).robustness, "seeded: reproducible"
    out = render_stage_report(d.model_dump(mode="json"))
    assert "⚠" in out and "resamples" in text_of(out)
