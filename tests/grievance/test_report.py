"""The report shows the office's steps as the store holds them: the window, each grievance and its rulings."""

from __future__ import annotations

from sqlalchemy import select

from dokja.report import render_stage_report
from dokja.report.office import office_view
from dokja.store import schema as db

from .test_office import file
from .conftest import kst


def test_the_report_renders_the_grievance_timeline_in_korea_time(published):
    number = file(published, team="beta")
    from dokja.grievance import rule, waive

    with published.begin() as s:
        rule(s, number, "rule_out", "A <b>score</b> dispute is not a process defect.", kst(2026, 1, 6, 15, 0))
        waive(s, "s1", "gamma", kst(2026, 1, 3, 9, 0))
        view = office_view(s, "s1", kst(2026, 1, 20, 9, 0))
        data = s.scalars(select(db.Decision.data).order_by(db.Decision.id.desc())).first()
    html = render_stage_report(data, view)
    assert 'id="grievances"' in html and "2026-01-12 24:00 KST" in html
    assert "2026-01-06 15:00 KST" in html and "out of scope" in html
    assert "A &lt;b&gt;score&lt;/b&gt; dispute" in html  # the office's text renders inert
    assert 'id="repechage"' not in html and 'id="resources"' not in html  # none opened, no ledger
