"""Dates ↔ data intervals. One run covers one local (Asia/Shanghai) calendar day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


def day_interval(day: date) -> tuple[datetime, datetime]:
    """[day 00:00, day+1 00:00) as aware datetimes in Asia/Shanghai."""
    start = datetime(day.year, day.month, day.day, tzinfo=TZ)
    return start, start + timedelta(days=1)


def local_day(interval_start: datetime) -> date:
    """The local day a data interval starts on."""
    if interval_start.tzinfo is None:
        return interval_start.date()
    return interval_start.astimezone(TZ).date()


def days(first: date, last: date) -> Iterator[date]:
    """Every day from first to last inclusive."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)
