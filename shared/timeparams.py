"""Date and time query parameters, parsed one way in every service.

``from``/``to`` take a date (``2026-11-20``) or an instant (``2026-11-20T09:30:00+07:00``). Years are bounded
(``MIN_YEAR``..``MAX_YEAR``) so no offset arithmetic can overflow; an instant without an offset is read in the zone
the caller gives (the region's); a date-only ``to`` includes that whole day; ``from`` after ``to`` is a 422 naming
``from``. Answers carry instants in ISO 8601 with an offset (``iso``), never a mix of conventions.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated

from pydantic import PlainValidator, WithJsonSchema

from shared.errors import InvalidInputError

MIN_YEAR = 2000
MAX_YEAR = 2100


def _bounded(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


def _day(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return _bounded(value)
    try:
        return _bounded(date.fromisoformat(str(value)))
    except ValueError as error:
        raise ValueError(f"must be a date YYYY-MM-DD ({error})") from None


def _day_or_instant(value: object) -> date | datetime:
    if isinstance(value, date):
        return _bounded(value)
    text = str(value)
    if len(text) <= len("YYYY-MM-DD"):
        return _day(text)
    try:
        return _bounded(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError as error:
        raise ValueError(f"must be a date YYYY-MM-DD or an ISO 8601 date-time ({error})") from None


QueryDate = Annotated[date, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
"""A calendar day within the supported years (422 naming the parameter otherwise)."""

QueryInstant = Annotated[
    date | datetime,
    PlainValidator(_day_or_instant),
    WithJsonSchema({"type": "string", "description": "YYYY-MM-DD or ISO 8601 date-time (offset optional)"}),
]
"""A day or an instant within the supported years (422 naming the parameter otherwise)."""


def start_of(value: date | datetime, *, zone: tzinfo) -> datetime:
    """The instant a bound starts: a day's midnight in ``zone``, an instant as given (naive ones in ``zone``)."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, time.min, tzinfo=zone)


def end_of(value: date | datetime, *, zone: tzinfo) -> datetime:
    """The last instant a bound includes: a whole day up to its last microsecond, an instant as given."""
    if isinstance(value, datetime):
        return start_of(value, zone=zone)
    return datetime.combine(value + timedelta(days=1), time.min, tzinfo=zone) - timedelta(microseconds=1)


def instant_range(
    first: date | datetime | None, last: date | datetime | None, *, zone: tzinfo = UTC
) -> tuple[datetime | None, datetime | None]:
    """``from``/``to`` as inclusive instants; 422 naming ``from`` when it is after ``to``."""
    start = start_of(first, zone=zone) if first is not None else None
    end = end_of(last, zone=zone) if last is not None else None
    if start is not None and end is not None and start > end:
        raise InvalidInputError("must not be after 'to'", field="from")
    return start, end


def day_range(
    first: date | None, last: date | None, *, today: date, default_days: int, max_days: int
) -> tuple[date, date]:
    """``from``/``to`` as inclusive days: ``to`` defaults to ``today``, ``from`` to ``default_days`` before it.

    422 naming ``from`` when it is after ``to`` or the period is longer than ``max_days``.
    """
    last_day = last or today
    first_day = first or last_day - timedelta(days=default_days - 1)
    if first_day > last_day:
        raise InvalidInputError("must not be after 'to'", field="from")
    if (last_day - first_day).days + 1 > max_days:
        raise InvalidInputError(f"period longer than {max_days} days", field="from")
    return first_day, last_day


def iso(moment: datetime, *, zone: tzinfo) -> str:
    """An instant as ISO 8601 in ``zone`` with its offset, to the second (the one convention of every answer)."""
    return moment.astimezone(zone).isoformat(timespec="seconds")
