"""Answer deadlines in a region's working time: the Russian production calendar, pre-holiday days, regional days off.

Working time is 09:00-13:00 and 14:00-18:00 (8 h) on working days of the federal production calendar
(``production_calendar.json``, written from ``holidays`` by ``python -m tooling.calendar``: public holidays, weekdays
off moved by government decree, working Saturdays; a year the file lacks gets the fixed holidays of ТК РФ ст. 112 and
no transfers). A pre-holiday day
(ТК РФ ст. 95) ends at 17:00: a working day followed by a public holiday, and a working Saturday the decree moved
there from a day off that is followed only by days off up to a public holiday (27.04.2024, 02.11.2024, 28.12.2024,
01.11.2025). A working day before a day off moved onto a weekday (30.12.2025, before 31.12) is not shortened. A
region's own days off (Uraza Bayram, Sagaalgan, ...) are public holidays of that region.

Time counts in whole minutes from the first minute that starts at or after the message; ``due_at`` is the instant
the last counted working minute ends. The calendar file (4 KB) is read on first use.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

SlaMode = Literal["working_hours", "calendar_hours"]

DAY_START, BREAK_START, BREAK_END, DAY_END = time(9), time(13), time(14), time(18)
PRE_HOLIDAY_END = time(17)
MAX_SEARCH_DAYS = 3 * 366
"""A deadline further than this from its message is refused (a policy of years of working hours is a mistake)."""

FIXED_HOLIDAYS = (
    (1, 1),
    (1, 2),
    (1, 3),
    (1, 4),
    (1, 5),
    (1, 6),
    (1, 7),
    (1, 8),
    (2, 23),
    (3, 8),
    (5, 1),
    (5, 9),
    (6, 12),
    (11, 4),
)
"""Month and day of the non-working public holidays of ТК РФ ст. 112."""


class DeadlineOutOfRangeError(ValueError):
    """The policy's working hours do not end within ``MAX_SEARCH_DAYS`` of the message."""


@dataclass(frozen=True, slots=True)
class Policy:
    """How long a region's institutions have to answer: working or calendar hours to the first response."""

    mode: SlaMode = "working_hours"
    hours: int = 8
    final_days: int = 7
    extra_days_off: frozenset[date] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class YearCalendar:
    """One year of the federal production calendar."""

    public_holidays: frozenset[date]
    weekdays_off: frozenset[date]
    working_weekends: frozenset[date]


def _dates(values: list[str]) -> frozenset[date]:
    return frozenset(date.fromisoformat(value) for value in values)


@cache
def _published_years() -> dict[int, YearCalendar]:
    text = resources.files(__package__).joinpath("production_calendar.json").read_text(encoding="utf-8")
    return {
        int(year): YearCalendar(
            public_holidays=_dates(days["public_holidays"]),
            weekdays_off=_dates(days["weekdays_off"]),
            working_weekends=_dates(days["working_weekends"]),
        )
        for year, days in json.loads(text)["years"].items()
    }


@cache
def year_calendar(year: int) -> YearCalendar:
    """The year's calendar: as published, or the fixed holidays of ст. 112 for a year the file lacks."""
    published = _published_years().get(year)
    if published is not None:
        return published
    fixed = frozenset(date(year, month, day) for month, day in FIXED_HOLIDAYS)
    return YearCalendar(public_holidays=fixed, weekdays_off=frozenset(), working_weekends=frozenset())


def _is_public_holiday(day: date, extra_days_off: frozenset[date]) -> bool:
    """A non-working holiday of ТК РФ ст. 112 (or the region's own), not a day off moved by decree."""
    return day in extra_days_off or day in year_calendar(day.year).public_holidays


def is_working_day(day: date, extra_days_off: frozenset[date] = frozenset()) -> bool:
    """A working day of the federal production calendar that is not one of the region's days off."""
    if day in extra_days_off:
        return False
    year = year_calendar(day.year)
    if day.weekday() >= 5:
        return day in year.working_weekends
    return day not in year.public_holidays and day not in year.weekdays_off


def _is_pre_holiday(day: date, extra_days_off: frozenset[date]) -> bool:
    following = day + timedelta(days=1)
    if _is_public_holiday(following, extra_days_off):
        return True
    if day not in year_calendar(day.year).working_weekends:
        return False
    while not is_working_day(following, extra_days_off):
        if _is_public_holiday(following, extra_days_off):
            return True
        following += timedelta(days=1)
    return False


def working_periods(day: date, extra_days_off: frozenset[date] = frozenset()) -> list[tuple[time, time]]:
    """The day's working periods in local time (none on a day off; the afternoon ends at 17:00 before a holiday)."""
    if not is_working_day(day, extra_days_off):
        return []
    end = PRE_HOLIDAY_END if _is_pre_holiday(day, extra_days_off) else DAY_END
    return [(DAY_START, BREAK_START), (BREAK_END, end)]


def _next_minute(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + timedelta(minutes=1)


def _periods_from(start: datetime, extra_days_off: frozenset[date]) -> Iterator[tuple[datetime, datetime]]:
    """Working periods as local instants, from ``start`` on (the first one cut at ``start``)."""
    zone = start.tzinfo
    for offset in range(MAX_SEARCH_DAYS):
        day = start.date() + timedelta(days=offset)
        for begin, end in working_periods(day, extra_days_off):
            period_start = datetime.combine(day, begin, zone)
            period_end = datetime.combine(day, end, zone)
            if period_end > start:
                yield max(period_start, start), period_end


def due_at(received_at: datetime, *, zone: ZoneInfo, policy: Policy) -> datetime:
    """The first-response deadline of a message received at ``received_at``, in ``zone``."""
    start = _next_minute(received_at.astimezone(zone))
    if policy.mode == "calendar_hours":
        return start + timedelta(hours=policy.hours)
    remaining = timedelta(hours=policy.hours)
    for begin, end in _periods_from(start, policy.extra_days_off):
        if end - begin >= remaining:
            return begin + remaining
        remaining -= end - begin
    raise DeadlineOutOfRangeError(f"{policy.hours} working hours do not end within {MAX_SEARCH_DAYS} days")


def final_due_at(interim_at: datetime, *, zone: ZoneInfo, policy: Policy) -> datetime:
    """The deadline of the full answer after an interim one: ``final_days`` calendar days."""
    return interim_at.astimezone(zone) + timedelta(days=policy.final_days)


def working_minutes(start: datetime, end: datetime, *, zone: ZoneInfo, policy: Policy) -> int:
    """Minutes of the region's working time (calendar minutes in ``calendar_hours`` mode) from ``start`` to ``end``."""
    begin, finish = _next_minute(start.astimezone(zone)), end.astimezone(zone)
    if finish <= begin:
        return 0
    if policy.mode == "calendar_hours":
        return int((finish - begin).total_seconds() // 60)
    counted = timedelta()
    for period_start, period_end in _periods_from(begin, policy.extra_days_off):
        if period_start >= finish:
            break
        counted += min(period_end, finish) - period_start
    return int(counted.total_seconds() // 60)
