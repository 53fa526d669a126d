"""User-evaluation points from the arena votes a decision counted, by the programme's `[arena]` mapping."""

from __future__ import annotations

from typing import Any

from ..audit.log import json_safe
from .inputs import StageError
from .records import StageInputs


def _board(inputs: StageInputs):
    from ..arena.points import leaderboard_for_stage

    if inputs.arena is None or not inputs.arena.votes:
        raise StageError("the arena has no votes for this stage: give user points as a CSV (--user) or a votes "
                         "export (--votes)")
    return leaderboard_for_stage(list(inputs.arena.votes), inputs.programme.arena)


def user_points_of(inputs: StageInputs) -> tuple[dict[str, float | None], dict[str, Any] | None]:
    """Team → user points, by hand (CSV) or from the arena's ratings of the counted votes; and the leaderboard
    they came from, for the report (None when given by hand)."""
    if inputs.user_source == "csv":
        return {t.id: t.user for t in inputs.teams}, None
    from ..arena.leaderboard import leaderboard_json
    from ..arena.points import user_points

    board = _board(inputs)
    points = user_points(board, {t.model: t.id for t in inputs.teams}, mapping=inputs.programme.arena,
                         total=inputs.programme.scheme.user)
    section = json_safe({**leaderboard_json(board), "source": inputs.arena.source})
    return {t.id: round(points.get(t.id, 0.0), 6) for t in inputs.teams}, section
