"""The programme file's `[resources]` table: GPUs, data and talent support, and how allocations follow a decision."""

from __future__ import annotations

from .strict import Strict


class Resources(Strict):
    """The resources ledger's rules."""
