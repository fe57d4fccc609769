"""Fires the template's ``ScheduleV2`` events locally, with the scheduler's ``Input`` substitutions.

``rate(N unit)`` fires every N units; ``cron(...)`` fires at the times EventBridge Scheduler would, in the event's
``ScheduleExpressionTimezone`` (``Cron``: the six-field form, without ``L``, ``W`` and ``#``). A function may have
several schedules (each its own timer); ``fire(function_id)`` runs its first one.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.logs import get_logger
from tooling.local.lambda_runtime import LambdaContext, load_handler
from tooling.local.template import Schedule, Template

logger = get_logger("local")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # 1-7 in AWS cron
SEARCH_DAYS = 366 * 8  # a Feb 29 expression fires within 8 years


def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int]:
    """The values of one cron field: ``*``, ``n``, ``a-b``, ``*/s``, ``a/s``, ``a-b/s`` and lists of them."""
    values: set[int] = set()

    def number(token: str) -> int:
        upper = token.upper()
        value = names.index(upper) + low if upper in names else int(token) if token.isdigit() else None
        if value is None or not low <= value <= high:
            raise ValueError(f"cron: {token!r} is not in {low}-{high}")
        return value

    for part in text.split(","):
        match = re.fullmatch(r"(\*|\w+(?:-\w+)?)(?:/(\d+))?", part)
        if match is None:
            raise ValueError(f"cron: unsupported field {part!r}")
        span, step = match.group(1), int(match.group(2) or 1)
        if span == "*":
            first, last = low, high
        elif "-" in span:
            first, last = (number(token) for token in span.split("-"))
        else:
            first = number(span)
            last = high if match.group(2) else first
        if step < 1 or first > last:
            raise ValueError(f"cron: empty field {part!r}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """An EventBridge ``cron(minutes hours day-of-month month day-of-week year)``; ``?`` on one of the two days."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: ``?`` (the day of week decides)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # Python's weekday(): 0 = Monday; None: ``?``
    years: frozenset[int]

    @classmethod
    def parse(cls, expression: str) -> Cron:
        """Parse ``cron(...)``; ValueError for another expression or a part outside the subset."""
        match = re.fullmatch(r"cron\((.*)\)", expression.strip())
        fields = match.group(1).split() if match else []
        if len(fields) != 6:
            raise ValueError(f"not a six-field cron() expression: {expression}")
        minutes, hours, days, months, weekdays, years = fields
        if (days == "?") == (weekdays == "?"):
            raise ValueError(f"cron: exactly one of day-of-month and day-of-week must be '?': {expression}")
        aws_weekdays = None if weekdays == "?" else _field(weekdays, 1, 7, WEEKDAYS)
        return cls(
            minutes=_field(minutes, 0, 59),
            hours=_field(hours, 0, 23),
            days=None if days == "?" else _field(days, 1, 31),
            months=_field(months, 1, 12, MONTHS),
            weekdays=None if aws_weekdays is None else frozenset((value - 2) % 7 for value in aws_weekdays),
            years=_field(years, 1970, 2199),
        )

    def matches_day(self, day: date) -> bool:
        """Whether the expression fires on this calendar day."""
        if day.year not in self.years or day.month not in self.months:
            return False
        if self.days is not None:
            return day.day in self.days
        return self.weekdays is not None and day.weekday() in self.weekdays

    def next_after(self, moment: datetime) -> datetime:
        """The first firing strictly after ``moment`` (an aware datetime), in ``moment``'s zone."""
        start = (moment + timedelta(minutes=1)).replace(second=0, microsecond=0)
        day = start.date()
        times = sorted((hour, minute) for hour in self.hours for minute in self.minutes)
        for _ in range(SEARCH_DAYS):
            if self.matches_day(day):
                for hour, minute in times:
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=moment.tzinfo)
                    if candidate >= start:
                        return candidate
            day += timedelta(days=1)
        raise ValueError("cron: the expression never fires")


def render_input(schedule: Schedule, *, when: datetime, execution_id: str) -> dict[str, Any]:
    """The event EventBridge Scheduler would deliver: ``Input`` with its context attributes filled in."""
    text = schedule.input.replace("<aws.scheduler.scheduled-time>", when.isoformat().replace("+00:00", "Z"))
    text = text.replace("<aws.scheduler.execution-id>", execution_id)
    text = text.replace("<aws.scheduler.schedule-arn>", f"arn:aws:scheduler:::schedule/local/{schedule.function_id}")
    result: dict[str, Any] = json.loads(text)
    return result


def _timezone(template: Template, schedule: Schedule) -> ZoneInfo:
    """The ``ScheduleExpressionTimezone`` of the schedule's event (UTC if none)."""
    events = template.functions()[schedule.function_id].get("Events", {}).values()
    for event in events:
        props = event.get("Properties", {})
        if event["Type"] in ("ScheduleV2", "Schedule") and props.get("ScheduleExpression") == schedule.expression:
            return ZoneInfo(props.get("ScheduleExpressionTimezone", "UTC"))
    return ZoneInfo("UTC")


class Scheduler:
    """One timer thread per schedule; ``max_period_seconds`` shortens long waits for local life."""

    def __init__(self, template: Template, *, max_period_seconds: float | None = None) -> None:
        self.timers = template.schedules()
        self.schedules: dict[str, Schedule] = {}
        for schedule in self.timers:
            self.schedules.setdefault(schedule.function_id, schedule)
        self.zones = {schedule: _timezone(template, schedule) for schedule in self.timers}
        self.crons = {s: Cron.parse(s.expression) for s in self.timers if s.expression.startswith("cron(")}
        self.max_period_seconds = max_period_seconds
        self.runs: dict[str, int] = dict.fromkeys(self.schedules, 0)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def next_run(self, schedule: Schedule, now: datetime) -> datetime:
        """When the template says the schedule fires next after ``now`` (a ``rate`` counts from ``now``)."""
        cron = self.crons.get(schedule)
        if cron is None:
            return now + timedelta(seconds=schedule.period_seconds)
        return cron.next_after(now.astimezone(self.zones[schedule])).astimezone(now.tzinfo)

    def delay(self, schedule: Schedule, now: datetime) -> float:
        """Seconds until the next local firing: the template's, or ``max_period_seconds`` if sooner."""
        seconds = max(0.0, (self.next_run(schedule, now) - now).total_seconds())
        return seconds if self.max_period_seconds is None else min(seconds, self.max_period_seconds)

    def fire(self, function_id: str, schedule: Schedule | None = None) -> Any:
        """Run one schedule now (the function's first one unless given) and return what its handler returned."""
        schedule = schedule or self.schedules[function_id]
        event = render_input(schedule, when=datetime.now(UTC), execution_id=str(uuid.uuid4()))
        result = load_handler(schedule.handler)(event, LambdaContext(function_name=function_id))
        self.runs[function_id] += 1
        return result

    def start(self) -> None:
        for index, schedule in enumerate(self.timers):
            self.delay(schedule, datetime.now(UTC))  # an expression the local stack cannot run fails the start
            name = f"schedule-{schedule.function_id}-{index}"
            thread = threading.Thread(target=self._run, args=(schedule,), name=name)
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def _run(self, schedule: Schedule) -> None:
        while not self._stop.wait(self.delay(schedule, datetime.now(UTC))):
            try:
                self.fire(schedule.function_id, schedule)
            except Exception:  # the real scheduler retries; locally the next tick does
                logger.exception("scheduled run failed", extra={"function": schedule.function_id})

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
