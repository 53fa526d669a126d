"""The panel's majority rule, pure: selected only with more than half of the whole panel, otherwise nobody."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .records import RepechageError, Tally


def tally(votes: Sequence[str | None], panel_size: int) -> Tally:
    """Count one vote per member (an applicant's key, or None for nobody). A member who did not vote counts
    against every applicant, as a majority is of the panel's members, not of the votes cast; a single
    applicant still needs it; two applicants cannot both hold a majority, so a tie never selects."""
    if panel_size < 1:
        raise RepechageError("the panel has no members")
    if len(votes) > panel_size:
        raise RepechageError(f"{len(votes)} votes from a panel of {panel_size}")
    counts = Counter(v for v in votes if v is not None)
    needed = panel_size // 2 + 1
    nobody = sum(v is None for v in votes)
    ordered = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    top = max(counts.values(), default=0)
    leaders = [k for k, n in ordered.items() if n == top]
    if top >= needed:
        selected = leaders[0]
        reason = f"{selected}: {top} of the {panel_size} members' votes, a majority (needs {needed})"
    else:
        selected = None
        if not counts:
            reason = f"nobody: no member voted for an applicant ({nobody} for nobody)"
        elif len(leaders) > 1:
            reason = (f"nobody: {' and '.join(leaders)} tie at {top}, short of the {needed} a majority of the "
                      f"{panel_size} members needs")
        else:
            reason = (f"nobody: {leaders[0]} has {top} vote(s), short of the {needed} a majority of the "
                      f"{panel_size} members needs")
    return Tally(selected=selected, counts=ordered, nobody=nobody, cast=len(votes), panel_size=panel_size,
                 needed=needed, reason=reason)
