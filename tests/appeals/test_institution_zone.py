"""An institution that keeps its own time zone: its appeals' deadlines run in that zone's working time, and every
instant of them is shown with its offset (hand-computed values; the page is inst-1's, in Novosibirsk, +07)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.appeals.vk import stable_id
from shared.events import make_event
from tests.appeals.conftest import GROUP_ID, institution_upserted, load_event
from tests.appeals.test_workflow import (  # noqa: F401 (the page fixture)
    ROAD,
    Deliver,
    Header,
    _page,
    client,
    get,
)

MONDAY_0200_UTC = int(datetime(2026, 11, 23, 2, 0, tzinfo=UTC).timestamp())
"""09:00 in Novosibirsk (+07), 14:00 in Petropavlovsk-Kamchatsky (+12), 05:00 in Moscow (+03)."""


def _zone(run_projection: Callable[..., Any], time_zone: str | None, revision: int) -> None:
    upserted = institution_upserted("inst-1", "54").model_copy(update={"time_zone": time_zone, "revision": revision})
    run_projection(make_event("registry", upserted))


def _appeal(deliver: Deliver, comment_id: int) -> str:
    deliver(load_event("wall_reply_new", id=comment_id, text=ROAD, date=MONDAY_0200_UTC))
    return stable_id(f"wall:{-GROUP_ID}:310:{comment_id}")


def test_deadlines_run_in_the_institutions_own_zone(
    deliver: Deliver, auth_header: Header, run_projection: Callable[..., Any]
) -> None:
    operator = auth_header("operator", "54")
    regional = get(_appeal(deliver, 1), operator)
    assert regional["time_zone"] == "Asia/Novosibirsk"
    assert (regional["received_at"], regional["due_at"]) == ("2026-11-23T09:00:00+07:00", "2026-11-23T18:00:00+07:00")

    _zone(run_projection, "Asia/Kamchatka", 2)
    kamchatka = get(_appeal(deliver, 2), operator)
    assert kamchatka["time_zone"] == "Asia/Kamchatka"
    assert kamchatka["received_at"] == "2026-11-23T14:00:00+12:00"
    assert kamchatka["due_at"] == "2026-11-24T13:00:00+12:00", "4 h on Monday from 14:00, 4 h on Tuesday from 09:00"
    assert get(_appeal(deliver, 1), operator)["due_at"] == "2026-11-23T18:00:00+07:00", "a stored deadline stays"

    _zone(run_projection, None, 3)
    assert get(_appeal(deliver, 3), operator)["due_at"] == "2026-11-23T18:00:00+07:00", "the override removed"


def test_the_deadline_endpoint_counts_in_an_institutions_zone(
    auth_header: Header, run_projection: Callable[..., Any]
) -> None:
    _zone(run_projection, "Europe/Moscow", 2)
    portal = auth_header("portal", "54")
    params = {"received_at": "2026-11-23T02:00:00Z"}
    regional = client().get("/appeals/policies/54/deadline", params=params, headers=portal)
    assert regional.json()["due_at"] == "2026-11-23T18:00:00+07:00"
    moscow = client().get("/appeals/policies/54/deadline", params=params | {"institution_id": "inst-1"}, headers=portal)
    assert moscow.json()["due_at"] == "2026-11-23T18:00:00+03:00", "05:00 in Moscow: the day from 09:00, all of it"
    foreign = client().get(
        "/appeals/policies/54/deadline", params=params | {"institution_id": "inst-9"}, headers=portal
    )
    assert foreign.status_code == 404 and foreign.json()["detail"][0]["field"] == "institution_id"
