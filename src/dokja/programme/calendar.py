"""Dates the programme runs on: the frontier window (the grievance window is `dokja.grievance.deadline`)."""

from __future__ import annotations

import calendar
import datetime as dt


def months_before(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def frontier_window(stage_date: dt.date, months: int) -> tuple[dt.date, dt.date]:
    """The window a frontier reference must be released in to count for a stage."""
    return months_before(stage_date, months), stage_date
