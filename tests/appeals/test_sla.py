"""Deadlines in working time, checked against hand-computed values and the official production calendars."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest

from services.appeals.sla import (
    DeadlineOutOfRangeError,
    Policy,
    due_at,
    is_working_day,
    working_minutes,
    working_periods,
    year_calendar,
)
from shared.regions import get_region

NOVOSIBIRSK = get_region("54").zone
DEFAULT = Policy()


def local(text: str, zone: object = NOVOSIBIRSK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "received,expected,why",
    [
        ("2026-11-24 10:00", "2026-11-25 10:00", "Tue 10-13, 14-18 = 7 h, Wed 9-10"),
        ("2026-11-28 11:00", "2026-11-30 18:00", "Saturday: the whole of Monday"),
        ("2026-11-26 17:30", "2026-11-27 17:30", "30 min on Thursday, 4 h + 3.5 h on Friday"),
        ("2026-11-24 00:00", "2026-11-24 18:00", "midnight: counting starts at 09:00"),
        ("2026-11-24 18:00", "2026-11-25 18:00", "at the end of the day: the next day"),
        ("2026-11-24 13:20", "2026-11-25 13:00", "in the lunch break: counting starts at 14:00"),
        ("2026-11-24 10:00:30", "2026-11-25 10:01", "counting starts at the next whole minute"),
        ("2025-03-07 16:00", "2025-03-10 17:00", "pre-holiday Friday ends 17:00; 8 March on Saturday"),
        ("2025-10-31 18:30", "2025-11-05 10:00", "working Saturday 1 Nov (7 h), days off 2-4 Nov"),
        ("2025-12-30 17:00", "2026-01-12 17:00", "30 Dec is not shortened; New Year days off to 11 Jan"),
        ("2026-06-11 12:00", "2026-06-15 13:00", "11 Jun ends 17:00; Russia Day and the weekend"),
        ("2024-02-22 16:30", "2024-02-26 17:30", "22 Feb 2024 ends 17:00 (30 min); 23-25 Feb off"),
        ("2024-04-27 08:00", "2024-05-02 10:00", "working Saturday 27 Apr 2024 (7 h); off 28 Apr-1 May"),
    ],
)
def test_first_response_deadline_in_working_time(received: str, expected: str, why: str) -> None:
    assert due_at(local(received), zone=NOVOSIBIRSK, policy=DEFAULT) == local(expected), why


def test_the_deadline_is_in_the_pages_zone_from_kaliningrad_to_kamchatka() -> None:
    moment = datetime.fromisoformat("2026-11-24T06:00:00+00:00")
    kaliningrad, kamchatka = get_region("39").zone, get_region("41").zone
    assert due_at(moment, zone=kaliningrad, policy=DEFAULT).isoformat() == "2026-11-24T18:00:00+02:00"
    assert due_at(moment, zone=kamchatka, policy=DEFAULT).isoformat() == "2026-11-25T18:00:00+12:00"


def test_a_regions_own_day_off_is_a_holiday_there_only() -> None:
    kazan = get_region("16").zone
    uraza_bayram = Policy(extra_days_off=frozenset({date(2026, 3, 20)}))
    received = local("2026-03-19 10:00", kazan)
    assert due_at(received, zone=kazan, policy=uraza_bayram) == local("2026-03-23 11:00", kazan)
    assert due_at(received, zone=kazan, policy=DEFAULT) == local("2026-03-20 10:00", kazan)


def test_calendar_hours_ignore_the_calendar() -> None:
    policy = Policy(mode="calendar_hours", hours=24)
    assert due_at(local("2026-11-28 10:00"), zone=NOVOSIBIRSK, policy=policy) == local("2026-11-29 10:00")


def test_working_minutes_between_a_message_and_its_answer() -> None:
    received, answered = local("2026-11-27 17:30"), local("2026-11-30 09:30")
    assert working_minutes(received, answered, zone=NOVOSIBIRSK, policy=DEFAULT) == 60
    assert working_minutes(answered, received, zone=NOVOSIBIRSK, policy=DEFAULT) == 0
    calendar = Policy(mode="calendar_hours")
    assert working_minutes(received, answered, zone=NOVOSIBIRSK, policy=calendar) == 60 * 64


@pytest.mark.parametrize("hours", [1, 8, 9, 40])
def test_the_deadline_leaves_exactly_the_policys_working_minutes(hours: int) -> None:
    received = local("2025-12-29 15:47")
    deadline = due_at(received, zone=NOVOSIBIRSK, policy=Policy(hours=hours))
    assert working_minutes(received, deadline, zone=NOVOSIBIRSK, policy=DEFAULT) == hours * 60
    assert working_minutes(received, deadline - timedelta(minutes=1), zone=NOVOSIBIRSK, policy=DEFAULT) < hours * 60


def _shortened_days(year: int) -> list[date]:
    days = (date(year, 1, 1) + timedelta(days=n) for n in range(366))
    return [day for day in days if day.year == year and working_periods(day)[-1:] == [(time(14), time(17))]]


def test_pre_holiday_days_match_the_official_calendars() -> None:
    # Постановление Правительства РФ от 04.10.2024 № 1335 (2025): 7 March, 30 April, 11 June, 1 November
    assert _shortened_days(2025) == [date(2025, 3, 7), date(2025, 4, 30), date(2025, 6, 11), date(2025, 11, 1)]
    assert {date(2024, 2, 22), date(2024, 3, 7), date(2024, 11, 2), date(2024, 12, 28)} <= set(_shortened_days(2024))
    assert date(2026, 4, 30) in _shortened_days(2026)
    assert not {date(2026, 2, 20), date(2026, 3, 6)} & set(_shortened_days(2026))  # a weekend comes first


def test_working_time_of_a_year_matches_the_official_norm() -> None:
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(365)]
    minutes = sum(
        (datetime.combine(day, end) - datetime.combine(day, start)).seconds // 60
        for day in days
        for start, end in working_periods(day)
    )
    assert minutes == 1972 * 60  # 247 working days, 4 of them shortened: the 40-hour-week norm of 2025


def test_a_deadline_beyond_the_search_range_is_refused() -> None:
    with pytest.raises(DeadlineOutOfRangeError):
        due_at(local("2026-11-24 10:00"), zone=NOVOSIBIRSK, policy=Policy(hours=100_000))


def test_the_calendar_file_is_what_holidays_says() -> None:
    from tooling.calendar import CALENDAR_FILE, calendar

    stored = json.loads(CALENDAR_FILE.read_text(encoding="utf-8"))
    last_year = max(int(year) for year in stored["years"])
    assert stored["years"] == calendar(last_year)["years"]
    assert last_year >= date.today().year, "bump holidays and run python -m tooling.calendar --last-year YEAR"


def test_a_year_without_a_published_decree_gets_the_fixed_holidays() -> None:
    year = year_calendar(2031)
    assert date(2031, 1, 8) in year.public_holidays and date(2031, 11, 4) in year.public_holidays
    assert not is_working_day(date(2031, 1, 2)) and is_working_day(date(2031, 1, 9))
    assert working_periods(date(2031, 11, 3)) == [(time(9), time(13)), (time(14), time(17))]
