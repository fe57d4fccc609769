"""The one parser of date and time query parameters: bounded years, no overflow, inclusive days, one convention."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from shared.errors import InvalidInputError
from shared.timeparams import QueryDate, QueryInstant, day_range, end_of, instant_range, iso, start_of
from shared.web import create_app

NOVOSIBIRSK = ZoneInfo("Asia/Novosibirsk")


def _app() -> FastAPI:
    app = create_app(service="probe", title="probe")

    @app.get("/range")
    def probe(
        first: Annotated[QueryInstant | None, Query(alias="from")] = None,
        last: Annotated[QueryInstant | None, Query(alias="to")] = None,
        day: QueryDate | None = None,
    ) -> dict[str, str | None]:
        start, end = instant_range(first, last, zone=NOVOSIBIRSK)
        return {
            "from": iso(start, zone=UTC) if start else None,
            "to": iso(end, zone=UTC) if end else None,
            "day": day.isoformat() if day else None,
        }

    return app


CLIENT = TestClient(_app())


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01T00:00:00%2B05:00",
        "to=0001-01-01",
        "to=9999-12-31T23:59:59-05:00",
        "from=1999-12-31",
        "to=2101-01-01",
        "day=0001-01-01",
        "from=yesterday",
        "to=2026-02-30",
    ],
)
def test_out_of_range_or_malformed_dates_are_422_naming_the_parameter(query: str) -> None:
    response = CLIENT.get(f"/range?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] in ("from", "to", "day")


def test_from_after_to_is_422_naming_from() -> None:
    response = CLIENT.get("/range?from=2026-11-22&to=2026-11-01")
    assert response.status_code == 422
    assert response.json()["message"] == "from: must not be after 'to'"


def test_a_date_only_to_includes_that_whole_day_in_the_zone() -> None:
    answer = CLIENT.get("/range?from=2026-11-20&to=2026-11-20").json()
    assert answer["from"] == "2026-11-19T17:00:00+00:00"  # midnight in Novosibirsk (UTC+7)
    assert answer["to"] == "2026-11-20T16:59:59+00:00"


def test_instants_keep_their_offset_and_naive_ones_are_read_in_the_zone() -> None:
    answer = CLIENT.get("/range?from=2026-11-20T09:30:00%2B03:00&to=2026-11-20T18:00:00").json()
    assert answer["from"] == "2026-11-20T06:30:00+00:00"
    assert answer["to"] == "2026-11-20T11:00:00+00:00"


def test_the_bounds_as_functions() -> None:
    day = date(2026, 12, 31)
    assert start_of(day, zone=UTC) == datetime(2026, 12, 31, tzinfo=UTC)
    assert end_of(day, zone=UTC) == datetime(2027, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)
    kamchatka = timezone(timedelta(hours=12))
    assert end_of(day, zone=kamchatka).astimezone(UTC) == datetime(2026, 12, 31, 11, 59, 59, 999999, tzinfo=UTC)
    with pytest.raises(InvalidInputError):
        instant_range(date(2026, 1, 2), date(2026, 1, 1))
    assert instant_range(date(2026, 1, 1), date(2026, 1, 1))[0] is not None


def test_day_ranges_default_and_are_bounded() -> None:
    today = date(2026, 11, 29)
    assert day_range(None, None, today=today, default_days=7, max_days=366) == (date(2026, 11, 23), today)
    assert day_range(None, date(2026, 1, 3), today=today, default_days=7, max_days=366)[0] == date(2025, 12, 28)
    assert day_range(date(2025, 11, 29), None, today=today, default_days=7, max_days=366)[0] == date(2025, 11, 29)
    with pytest.raises(InvalidInputError, match="longer than 366"):
        day_range(date(2025, 11, 28), None, today=today, default_days=7, max_days=366)
    with pytest.raises(InvalidInputError, match="after 'to'"):
        day_range(date(2026, 11, 30), None, today=today, default_days=7, max_days=366)


def test_answers_use_one_convention() -> None:
    moment = datetime(2026, 11, 20, 2, 0, 30, 123456, tzinfo=UTC)
    assert iso(moment, zone=NOVOSIBIRSK) == "2026-11-20T09:00:30+07:00"
    assert iso(moment, zone=UTC) == "2026-11-20T02:00:30+00:00"
