"""The programme file's `[panel]` table: the expert panel's rubric, assignment and agreement rules."""

from __future__ import annotations

from .strict import Strict


class Panel(Strict):
    """The expert panel."""
