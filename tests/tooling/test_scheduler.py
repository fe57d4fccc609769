"""The local scheduler: the cron() subset the template uses, every schedule of a function, Moscow time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tooling.local.scheduler import Cron, Scheduler
from tooling.local.template import load_template

MOSCOW = ZoneInfo("Europe/Moscow")


def test_cron_fires_at_the_next_matching_minute() -> None:
    nightly = Cron.parse("cron(30 1 * * ? *)")
    assert nightly.next_after(datetime(2026, 11, 22, 0, 10, tzinfo=MOSCOW)) == datetime(
        2026, 11, 22, 1, 30, tzinfo=MOSCOW
    )
    assert nightly.next_after(datetime(2026, 11, 22, 1, 30, tzinfo=MOSCOW)) == datetime(
        2026, 11, 23, 1, 30, tzinfo=MOSCOW
    )
    assert nightly.next_after(datetime(2026, 12, 31, 23, 59, 59, tzinfo=MOSCOW)) == datetime(
        2027, 1, 1, 1, 30, tzinfo=MOSCOW
    )


def test_cron_lists_ranges_steps_and_names() -> None:
    weekdays = Cron.parse("cron(0/15 9-17 ? * MON-FRI *)")  # every quarter hour, 9-17, on working days
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # a Saturday
    assert weekdays.next_after(saturday) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert weekdays.next_after(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert weekdays.next_after(datetime(2026, 11, 23, 17, 45, tzinfo=UTC)) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    sunday = Cron.parse("cron(0 3 ? * 1 *)")  # AWS counts the week from Sunday = 1
    assert sunday.next_after(saturday) == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    quarterly = Cron.parse("cron(0 0 1 JAN,APR,JUL,OCT ? 2026-2027)")
    assert quarterly.next_after(saturday) == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="never fires"):  # its last firing was 1 Oct 2027
        quarterly.next_after(datetime(2027, 10, 1, 0, 0, tzinfo=UTC))
    leap = Cron.parse("cron(0 12 29 2 ? *)")
    assert leap.next_after(saturday) == datetime(2028, 2, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "cron(0 1 * * *)",  # five fields: the Unix form
        "cron(0 1 * * * *)",  # neither day field is '?'
        "cron(0 1 ? * ? *)",  # both are
        "cron(0 25 * * ? *)",  # hour out of range
        "cron(0 1 L * ? *)",  # L, W and # are not in the subset
        "cron(0 1 ? * 2#1 *)",
        "cron(0 1 * FOO ? *)",
    ],
)
def test_expressions_outside_the_subset_are_refused(expression: str) -> None:
    with pytest.raises(ValueError):
        Cron.parse(expression)


def test_a_cron_that_never_fires_says_so() -> None:
    with pytest.raises(ValueError, match="never fires"):
        Cron.parse("cron(0 0 31 2 ? *)").next_after(datetime(2026, 1, 1, tzinfo=UTC))


def test_every_schedule_of_the_template_runs_locally_in_its_time_zone() -> None:
    template = load_template(
        stack_name="sched", region="eu-central-1", parameters={"JwtIssuer": "i", "JwtAudience": "a", "JwksUrl": ""}
    )
    scheduler = Scheduler(template)
    rollups = [schedule for schedule in scheduler.timers if schedule.function_id == "MetricsRollupFunction"]
    assert [schedule.expression for schedule in rollups] == ["rate(1 hour)", "cron(30 1 * * ? *)"]
    assert scheduler.schedules["MetricsRollupFunction"] is rollups[0]  # what /_local/schedules/{id} fires

    now = datetime(2026, 11, 22, 21, 0, tzinfo=UTC)  # 00:00 in Moscow (UTC+3)
    hourly, nightly = rollups
    assert scheduler.next_run(hourly, now) == datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert scheduler.next_run(nightly, now) == datetime(2026, 11, 22, 22, 30, tzinfo=UTC)  # 01:30 Moscow
    assert scheduler.delay(nightly, now) == 5400
    for schedule in scheduler.timers:  # every expression of the template is understood
        assert scheduler.next_run(schedule, now) > now
    capped = Scheduler(template, max_period_seconds=60)
    assert capped.delay(nightly, now) == 60
