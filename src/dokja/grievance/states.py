"""A grievance's states and the office's actions between them: one table, one pure function."""

from __future__ import annotations

from .errors import GrievanceError

STATES = ("filed", "admissible", "out_of_scope", "under_review", "information_requested", "upheld",
          "partly_upheld", "dismissed", "closed")

# (state, action) → the state the action leads to; anything not listed is refused.
ALLOWED: dict[tuple[str, str], str] = {
    ("filed", "admit"): "admissible",
    ("filed", "rule_out"): "out_of_scope",
    ("admissible", "review"): "under_review",
    ("under_review", "request_information"): "information_requested",
    ("information_requested", "resume"): "under_review",
    ("under_review", "uphold"): "upheld",
    ("under_review", "partly_uphold"): "partly_upheld",
    ("under_review", "dismiss"): "dismissed",
    ("out_of_scope", "close"): "closed",
    ("upheld", "close"): "closed",
    ("partly_upheld", "close"): "closed",
    ("dismissed", "close"): "closed",
}
ACTIONS = tuple(dict.fromkeys(action for _, action in ALLOWED))
UPHELD = ("upheld", "partly_upheld")

# The kinds of grounds the form offers. Only a defect in the evaluation process is admissible (the programme's
# rule); the others are offered so that the office can rule them out of scope rather than leave them unanswered.
GROUNDS: dict[str, tuple[str, str]] = {
    "process_defect": ("A defect in the evaluation process", "평가 절차상의 중대한 하자"),
    "score_disagreement": ("Disagreement with a score", "점수에 대한 이견"),
    "rules": ("Objection to the programme's rules themselves", "사업 규칙 자체에 대한 이의"),
    "other": ("Other", "기타"),
}
ADMISSIBLE_GROUNDS = ("process_defect",)


def next_state(state: str, action: str) -> str:
    """The state `action` leads to from `state`; a transition the table does not hold is refused in one line."""
    if state not in STATES:
        raise GrievanceError(f"unknown grievance state {state!r}")
    if action not in ACTIONS:
        raise GrievanceError(f"unknown action {action!r}; actions are {', '.join(ACTIONS)}")
    if (state, action) not in ALLOWED:
        possible = [a for (s, a) in ALLOWED if s == state]
        allowed = f"allowed: {', '.join(possible)}" if possible else "it is closed"
        raise GrievanceError(f"a grievance that is {state.replace('_', ' ')} cannot take {action!r} ({allowed})")
    return ALLOWED[(state, action)]
