"""Whether the arena stayed blind: the de-anonymisation check on the stage's stored answers, for the report.

A leaderboard built from blind votes is only as blind as the answers; if a small classifier names the model
behind an answer far more often than chance, votes can be aimed. The check itself lives in the arena
(`arena.deanon`); this reads its result for one stage, or None where the stage has no answers to test (a
stage whose user points came from a CSV, or an arena with one model).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..arena.deanon import Deanon
from ..arena.errors import ArenaError
from ..arena.service import identity_check


def identity_view(session: Session, stage: str) -> Deanon | None:
    """The check on the stage's battles' answers; None when there is nothing (or only one model) to tell apart."""
    try:
        return identity_check(session, stage=stage)
    except ArenaError:
        return None
