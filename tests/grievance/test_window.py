"""The window's arithmetic in KST, from an injected clock."""

from __future__ import annotations

import datetime as dt

import pytest

from dokja.grievance import GrievanceError, deadline
from dokja.grievance.window import in_time, kst_text

from .conftest import kst


@pytest.mark.parametrize("published, days, closes", [
    (kst(2026, 1, 2, 15, 0), 10, kst(2026, 1, 13, 0, 0)),
    (kst(2026, 1, 2, 0, 0), 10, kst(2026, 1, 13, 0, 0)),
    (kst(2026, 1, 2, 23, 59), 10, kst(2026, 1, 13, 0, 0)),
    (kst(2026, 1, 15, 9, 0), 0, kst(2026, 1, 16, 0, 0)),
    (kst(2026, 2, 25, 12, 0), 10, kst(2026, 3, 8, 0, 0)),  # across the month's end
])
def test_deadline_is_24_00_kst_of_the_last_day(published, days, closes):
    assert deadline(published, days) == closes


def test_publication_day_is_the_day_in_kst():
    """20:00 UTC on 1 January is already 2 January in Korea: the count starts from the 2nd."""
    utc = dt.datetime(2026, 1, 1, 20, 0, tzinfo=dt.UTC)
    assert deadline(utc, 10) == kst(2026, 1, 13, 0, 0)
    assert kst_text(deadline(utc, 10)) == "2026-01-12 24:00 KST"


def test_in_time_up_to_the_last_instant():
    closes = kst(2026, 1, 13, 0, 0)
    assert in_time(kst(2026, 1, 12, 23, 59, 59), closes)
    assert not in_time(kst(2026, 1, 13, 0, 0), closes)
    assert in_time(dt.datetime(2026, 1, 12, 14, 59, tzinfo=dt.UTC), closes)  # 23:59 KST


def test_a_naive_clock_is_refused():
    with pytest.raises(GrievanceError, match="no time zone"):
        deadline(dt.datetime(2026, 1, 2, 15, 0), 10)
