"""Conflicts of interest, pure: declared ones, and ones detected from current and past affiliations."""

import datetime as dt

from dokja.panel.conflicts import check_pair, normalise, years_before
from dokja.panel.records import Affiliation, Declared, ReviewerRecord, TeamOrganisations

STAGE = dt.date(2025, 12, 30)
TEAM = TeamOrganisations(team="hanbit", organisations=("LG AI Research", "Seoul National University", ""))


def reviewer(**kw) -> ReviewerRecord:
    return ReviewerRecord(key="kim", pseudonym="R1", **kw)


def test_a_declared_conflict_conflicts():
    check = check_pair(reviewer(declared=(Declared(team="hanbit", reason="co-author of its report"),)), TEAM,
                       STAGE, 3)
    assert check.conflicted and check.reasons == ("declared: co-author of its report",)


def test_a_current_affiliation_conflicts_whatever_its_spelling():
    check = check_pair(reviewer(affiliation="  lg ai\u3000RESEARCH "), TEAM, STAGE, 3)
    assert check.conflicted and "works at LG AI Research" in check.reasons[0]
    assert normalise("Seoul National  University") == normalise("seoulnationaluniversity")


def test_a_past_affiliation_within_the_years_conflicts_and_one_outside_does_not():
    within = reviewer(affiliations=(Affiliation(organisation="Seoul National University",
                                                start=dt.date(2015, 3, 1), end=dt.date(2023, 2, 28)),))
    outside = reviewer(affiliations=(Affiliation(organisation="Seoul National University",
                                                 start=dt.date(2010, 3, 1), end=dt.date(2022, 12, 29)),))
    check = check_pair(within, TEAM, STAGE, 3)
    assert check.conflicted and check.reasons == ("worked at Seoul National University until 2023-02-28, within 3 "
                                                  "years before the stage date 2025-12-30",)
    clear = check_pair(outside, TEAM, STAGE, 3)
    assert not clear.conflicted and clear.reasons[0].startswith("clear:") and "2022-12-30" in clear.reasons[0]
    assert check_pair(outside, TEAM, STAGE, 4).conflicted  # four years reach back to 2021-12-30


def test_an_ongoing_or_future_affiliation():
    ongoing = reviewer(affiliations=(Affiliation(organisation="LG AI Research", start=dt.date(2024, 1, 1)),))
    future = reviewer(affiliations=(Affiliation(organisation="LG AI Research", start=dt.date(2026, 3, 1)),))
    assert check_pair(ongoing, TEAM, STAGE, 0).conflicted
    assert not check_pair(future, TEAM, STAGE, 3).conflicted


def test_an_empty_organisation_never_matches():
    assert not check_pair(reviewer(affiliation=""), TEAM, STAGE, 3).conflicted


def test_a_dismissed_reason_no_longer_conflicts_but_is_kept():
    r = reviewer(affiliation="LG AI Research", declared=(Declared(team="hanbit", reason="friend"),))
    first = check_pair(r, TEAM, STAGE, 3)
    assert len(first.reasons) == 2
    partly = check_pair(r, TEAM, STAGE, 3, frozenset({"declared: friend"}))
    assert partly.conflicted and partly.dismissed == ("declared: friend",)
    gone = check_pair(r, TEAM, STAGE, 3, frozenset(first.reasons))
    assert not gone.conflicted and gone.dismissed == first.reasons


def test_years_before_a_leap_day():
    assert years_before(dt.date(2028, 2, 29), 3) == dt.date(2025, 2, 28)
