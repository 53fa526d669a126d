"""The panel's majority: of the whole panel, not of the votes cast; nobody otherwise; ties never select."""

from __future__ import annotations

import pytest

from dokja.repechage import RepechageError, tally


@pytest.mark.parametrize("votes, size, selected", [
    (["a", "a", "a", "b", None], 5, "a"),  # 3 of 5
    (["a", "a", "b", "b", None], 5, None),  # tie, and short of 3
    (["a", "a", "b", None, None], 5, None),  # plurality is not majority
    (["a", "a", "a"], 5, "a"),  # two members did not vote; 3 of 5 still a majority
    (["a", "a"], 5, None),  # 2 of 5: both who voted chose a, still short
    (["a", "a", "b", "b"], 4, None),  # half is not more than half
    (["a", "a", "a", "b"], 4, "a"),
    ([None, None, None], 3, None),  # the panel chose nobody
    ([], 3, None),
    (["a"], 1, "a"),
])
def test_majority_of_the_whole_panel(votes, size, selected):
    assert tally(votes, size).selected == selected


def test_a_single_applicant_is_still_voted_on():
    short = tally(["solo", "solo", None, None, None], 5)
    assert short.selected is None and short.reason.startswith("nobody: solo has 2 vote(s), short of the 3")
    assert tally(["solo", "solo", "solo", None, None], 5).selected == "solo"


def test_the_count_says_why():
    t = tally(["a", "a", "a", "b", None], 5)
    assert (t.counts, t.nobody, t.cast, t.needed) == ({"a": 3, "b": 1}, 1, 5, 3)
    assert t.reason == "a: 3 of the 5 members' votes, a majority (needs 3)"
    assert tally(["a", "b"], 3).reason == "nobody: a and b tie at 1, short of the 2 a majority of the 3 members needs"
    assert tally([None], 3).reason == "nobody: no member voted for an applicant (1 for nobody)"


def test_more_votes_than_members_or_no_panel_is_refused():
    with pytest.raises(RepechageError, match="3 votes from a panel of 2"):
        tally(["a", "a", "a"], 2)
    with pytest.raises(RepechageError, match="no members"):
        tally([], 0)
