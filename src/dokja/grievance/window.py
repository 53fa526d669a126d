"""The grievance window in Korea's time (KST = UTC+9, no daylight saving), from an injected clock. Pure.

The window opens when a decision is published and closes at 24:00 KST at the end of the `days`-th calendar day
after the publication day (the day in KST): published on 2 January at any hour, with 10 days, it closes at
2026-01-12 24:00 KST, i.e. 2026-01-13 00:00 KST; a grievance at that instant or later is late.
"""

from __future__ import annotations

import datetime as dt

from .errors import GrievanceError

KST = dt.timezone(dt.timedelta(hours=9), "KST")


def aware(now: dt.datetime) -> dt.datetime:
    """The clock must say which time zone it is in: a naive time is refused, never guessed."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise GrievanceError(f"the time {now.isoformat()} has no time zone; give one (e.g. +09:00)")
    return now


def deadline(published_at: dt.datetime, days: int) -> dt.datetime:
    """The first instant at which a grievance is late (00:00 KST of the day after the last day)."""
    day = aware(published_at).astimezone(KST).date()
    return dt.datetime.combine(day + dt.timedelta(days=days + 1), dt.time(0), KST)


def in_time(now: dt.datetime, closes: dt.datetime) -> bool:
    return aware(now) < closes


def kst_text(closes: dt.datetime) -> str:
    """A deadline as the public reads it: the last day's 24:00 in KST ("2026-01-12 24:00 KST")."""
    local = closes.astimezone(KST)
    if local.time() == dt.time(0):
        return f"{(local.date() - dt.timedelta(days=1)).isoformat()} 24:00 KST"
    return f"{local:%Y-%m-%d %H:%M} KST"


def at_kst(moment: dt.datetime) -> str:
    return f"{moment.astimezone(KST):%Y-%m-%d %H:%M} KST"


def to_store(moment: dt.datetime) -> dt.datetime:
    """Naive UTC, as the store keeps every time."""
    return aware(moment).astimezone(dt.UTC).replace(tzinfo=None)


def from_store(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.replace(tzinfo=dt.UTC)
