"""The grievance state machine: every allowed transition, every refused one."""

from __future__ import annotations

import itertools

import pytest

from dokja.grievance import ACTIONS, ALLOWED, STATES, GrievanceError, next_state

EXPECTED = {
    ("filed", "admit"): "admissible", ("filed", "rule_out"): "out_of_scope",
    ("admissible", "review"): "under_review",
    ("under_review", "request_information"): "information_requested",
    ("information_requested", "resume"): "under_review",
    ("under_review", "uphold"): "upheld", ("under_review", "partly_uphold"): "partly_upheld",
    ("under_review", "dismiss"): "dismissed",
    ("out_of_scope", "close"): "closed", ("upheld", "close"): "closed", ("partly_upheld", "close"): "closed",
    ("dismissed", "close"): "closed",
}


def test_the_table_is_the_programmes():
    assert ALLOWED == EXPECTED


@pytest.mark.parametrize("state, action", sorted(EXPECTED))
def test_each_allowed_transition(state, action):
    assert next_state(state, action) == EXPECTED[(state, action)]


REFUSED = sorted(set(itertools.product(STATES, ACTIONS)) - set(EXPECTED))


@pytest.mark.parametrize("state, action", REFUSED)
def test_each_refused_transition(state, action):
    with pytest.raises(GrievanceError, match=f"cannot take '{action}'") as caught:
        next_state(state, action)
    assert "\n" not in str(caught.value)


def test_every_state_but_closed_can_move_on_and_closed_cannot():
    movable = {s for s, _ in EXPECTED}
    assert movable == set(STATES) - {"closed"}
    with pytest.raises(GrievanceError, match="it is closed"):
        next_state("closed", "admit")


def test_unknown_state_or_action():
    with pytest.raises(GrievanceError, match="unknown action 'approve'"):
        next_state("filed", "approve")
    with pytest.raises(GrievanceError, match="unknown grievance state"):
        next_state("pending", "admit")
