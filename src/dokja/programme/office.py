"""The programme file's `[grievances]` and `[repechage]` tables: the office's steps after a decision."""

from __future__ import annotations

from .strict import Strict


class Grievances(Strict):
    """How eliminated teams file grievances."""


class Repechage(Strict):
    """The repechage call's rules."""
