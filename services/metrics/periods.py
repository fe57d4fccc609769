"""Calendar periods of rollups and reports: a local day belongs to one week (ISO), month, quarter and year."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

Period = Literal["day", "week", "month", "quarter", "year"]
RatingPeriod = Literal["week", "month", "quarter", "year"]
ROLLUP_PERIODS: tuple[RatingPeriod, ...] = ("week", "month", "quarter", "year")


def label(period: Period, day: date) -> str:
    """The period containing ``day``: ``2026-11-22``, ``2026-W47``, ``2026-11``, ``2026-Q4``, ``2026``."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def bounds(period: Period, day: date) -> tuple[date, date]:
    """The first and last local day of the period containing ``day``."""
    if period == "day":
        return day, day
    if period == "week":
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    if period == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    months = 1 if period == "month" else 3
    first_month = day.month if period == "month" else 3 * ((day.month - 1) // 3) + 1
    first = date(day.year, first_month, 1)
    next_month = first_month + months
    after = date(day.year + (next_month > 12), (next_month - 1) % 12 + 1, 1)
    return first, after - timedelta(days=1)


def length(period: Period, day: date) -> int:
    """Days in the period containing ``day``."""
    first, last = bounds(period, day)
    return (last - first).days + 1
