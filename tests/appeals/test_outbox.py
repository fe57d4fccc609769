"""Appeal events that can no longer be lost: a workflow change's events are committed with it (outbox) and reach the
activity queue exactly once even when the publish after the commit fails; the ingest worker's redelivery re-emits
what a duplicate had (the community's answer, an urgent appeal's notice)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.appeals import bootstrap, deadlines
from services.appeals import ingest as ingest_worker
from services.appeals import outbox as appeals_outbox
from services.appeals.app import app
from services.appeals.vk import stable_id
from shared import publisher, wiring
from shared.errors import UnavailableError
from shared.events import Event, PageUpserted, make_event, parse_event
from shared.outbox import OutboxRecord, now_iso
from tests.appeals.conftest import GROUP_ID, institution_upserted, load_event, queued
from tooling.local.lambda_runtime import LambdaContext
from tooling.local.template import Template

Deliver = Callable[..., dict[str, Any]]
Header = Callable[..., dict[str, str]]
Receive = Callable[[str], list[dict[str, Any]]]
NOW = int(time.time())
ROAD = "Когда отремонтируют дорогу на улице Ленина? Ямы уже по колено."
GAS = "Срочно! В подъезде дома 12 на улице Ленина сильно пахнет газом, аварийка не отвечает"
NO_FAILURES: dict[str, list[Any]] = {"batchItemFailures": []}


@pytest.fixture(autouse=True)
def _page(vk_page: PageUpserted, run_projection: Callable[..., Any]) -> None:
    del vk_page
    run_projection(make_event("registry", institution_upserted("inst-1", "54")))


def comment(comment_id: int, text: str = ROAD, *, ago: int = 3600) -> dict[str, Any]:
    return load_event("wall_reply_new", id=comment_id, text=text, date=NOW - ago) | {"event_id": f"w{comment_id}"}


def appeal_id(comment_id: int) -> str:
    return stable_id(f"wall:{-GROUP_ID}:310:{comment_id}")


def act(appeal: str, headers: dict[str, str], action: str) -> Any:
    return TestClient(app).post(f"/appeals/{appeal}/status", json={"action": action}, headers=headers)


def pending() -> list[OutboxRecord]:
    """What the appeals table's outbox still holds."""
    return list(bootstrap.repository().outbox_before(now_iso()))


def appeal_events(receive: Receive) -> list[Event]:
    """The appeal events the activity queue got (activities left out)."""
    events = [parse_event(message["Body"]) for message in receive("ActivityQueue")]
    return [event for event in events if event.type.startswith("appeal.")]


def change_ids(events: Sequence[Event]) -> list[tuple[str, str]]:
    return [(event.type, event.body.payload.change_id) for event in events]  # type: ignore[union-attr]


def relay(monkeypatch: pytest.MonkeyPatch, *, after_seconds: float = 0) -> Any:
    """One scheduled run of ``AppealsOutboxFunction``, relaying records older than ``after_seconds``."""
    monkeypatch.setattr(appeals_outbox, "RELAY_AFTER_SECONDS", after_seconds)
    run = {"scheduled_time": datetime.now(UTC).isoformat(), "execution_id": "run"}
    return appeals_outbox.handler(run, LambdaContext(function_name="AppealsOutboxFunction"))["result"]


def fail_publishing(monkeypatch: pytest.MonkeyPatch, *, times: int) -> None:
    """The activity queue refuses the next ``times`` publishes."""
    real = publisher.publish
    left = {"failures": times}

    def flaky(events: Sequence[Event], *, queue_urls: Sequence[str]) -> None:
        if left["failures"]:
            left["failures"] -= 1
            raise UnavailableError("the queue did not accept the events")
        real(events, queue_urls=queue_urls)

    monkeypatch.setattr(publisher, "publish", flaky)


# ---------------------------------------------------------------- the API path: the outbox


def test_a_change_publishes_its_events_right_after_the_commit_and_clears_the_outbox(
    deliver: Deliver, auth_header: Header, receive: Receive
) -> None:
    deliver(comment(1))
    receive("ActivityQueue")
    operator = auth_header("operator", "54")
    assert act(appeal_id(1), operator, "take").status_code == 200
    assert act(appeal_id(1), operator, "answer").status_code == 200
    assert change_ids(appeal_events(receive)) == [("appeal.answered", f"answered:{appeal_id(1)}")]
    assert pending() == [], "dispatched: the outbox item is deleted"
    assert act(appeal_id(1), operator, "take").status_code == 409
    assert appeal_events(receive) == [] and pending() == [], "a refused change writes no events"


def test_a_close_whose_publish_fails_answers_200_and_the_relay_publishes_it_once(
    deliver: Deliver, auth_header: Header, receive: Receive, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(comment(1))
    operator = auth_header("operator", "54")
    act(appeal_id(1), operator, "take")
    act(appeal_id(1), operator, "answer")
    receive("ActivityQueue")

    fail_publishing(monkeypatch, times=1)
    closed = act(appeal_id(1), operator, "close")
    assert closed.status_code == 200 and closed.json()["status"] == "closed", "the change is committed"
    assert appeal_events(receive) == []
    [record] = pending()
    assert [event.type for event in record["events"]] == ["appeal.closed"]

    assert relay(monkeypatch, after_seconds=appeals_outbox.RELAY_AFTER_SECONDS) == {"published": 0, "failed": 0}
    assert relay(monkeypatch) == {"published": 1, "failed": 0}
    [event] = appeal_events(receive)
    assert event.event_id == record["events"][0].event_id
    assert event.body.payload.change_id == f"closed:{appeal_id(1)}:{closed.json()['closed_at']}"  # type: ignore[union-attr]
    assert relay(monkeypatch) == {"published": 0, "failed": 0}
    assert appeal_events(receive) == [] and pending() == [], "exactly once"


def test_an_answer_while_the_queue_is_unreachable_is_relayed_once_it_is_back(
    deliver: Deliver, auth_header: Header, receive: Receive, monkeypatch: pytest.MonkeyPatch, aws: Template
) -> None:
    deliver(comment(1))
    receive("ActivityQueue")
    operator = auth_header("operator", "54")
    act(appeal_id(1), operator, "take")
    monkeypatch.setenv("GOSPUBLIKI_ACTIVITY_QUEUE_URL", aws.queue_urls["ActivityQueue"] + "-gone")
    wiring.reset()
    answered = act(appeal_id(1), operator, "answer")
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert relay(monkeypatch) == {"published": 0, "failed": 1}, "still unreachable: kept for the next run"

    monkeypatch.setenv("GOSPUBLIKI_ACTIVITY_QUEUE_URL", aws.queue_urls["ActivityQueue"])
    wiring.reset()
    assert appeal_events(receive) == []
    assert relay(monkeypatch) == {"published": 1, "failed": 0}
    assert change_ids(appeal_events(receive)) == [("appeal.answered", f"answered:{appeal_id(1)}")]
    assert relay(monkeypatch) == {"published": 0, "failed": 0} and pending() == []


def test_overdue_flags_keep_their_event_when_publishing_fails(
    deliver: Deliver, receive: Receive, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(comment(1, ago=5 * 86400))
    receive("ActivityQueue")
    fail_publishing(monkeypatch, times=1)
    run = {"scheduled_time": datetime.now(UTC).isoformat(), "execution_id": "x"}
    assert deadlines.handler(run, LambdaContext(function_name="AppealsOverdueFunction"))["result"] == {"flagged": 1}
    assert appeal_events(receive) == []
    assert relay(monkeypatch) == {"published": 1, "failed": 0}
    [event] = appeal_events(receive)
    assert event.type == "appeal.overdue" and event.body.payload.appeal_id == appeal_id(1)  # type: ignore[union-attr]


# ---------------------------------------------------------------- the ingest path: redelivery re-emits


def test_a_redelivered_community_answer_publishes_its_appeal_answered_again(
    deliver: Deliver, ingest: Deliver, receive: Receive, monkeypatch: pytest.MonkeyPatch
) -> None:
    deliver(load_event("wall_reply_new"))
    appeal = stable_id(f"wall:{-GROUP_ID}:310:312")
    receive("ActivityQueue")
    batch = [queued(load_event("wall_reply_new_community"))]

    def down(*_: Any, **__: Any) -> None:
        raise RuntimeError("queue down")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(ingest_worker, "publish", down)
        ingest(batch)
    stored = bootstrap.repository().get_appeal(appeal)
    assert stored is not None and stored["status"] == "answered", "written, but its event was not published"
    assert appeal_events(receive) == []

    assert ingest(batch) == NO_FAILURES, "SQS redelivers the batch"
    [event] = appeal_events(receive)
    assert change_ids([event]) == [("appeal.answered", f"answered:{appeal}")]
    assert event.body.payload.answered_at == datetime.fromisoformat(stored["answered_at"])  # type: ignore[union-attr]
    assert ingest(batch) == NO_FAILURES
    assert change_ids(appeal_events(receive)) == [("appeal.answered", f"answered:{appeal}")], "the same change"
    assert bootstrap.repository().get_appeal(appeal) == stored, "no second effect"


def test_a_redelivered_reply_that_answered_nothing_publishes_no_answer(deliver: Deliver, receive: Receive) -> None:
    reply = load_event("wall_reply_new_community")
    deliver(reply)
    deliver(reply)
    assert appeal_events(receive) == []


def test_a_redelivered_urgent_appeal_notices_the_region_again_while_it_is_urgent(
    ingest: Deliver, receive: Receive, monkeypatch: pytest.MonkeyPatch, auth_header: Header
) -> None:
    batch = [queued(comment(3, GAS, ago=60))]

    def down(*_: Any, **__: Any) -> None:
        raise RuntimeError("queue down")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(ingest_worker, "publish", down)
        ingest(batch)
    assert receive("AppealsNotificationsQueue") == [], "the batch failed before its notices were sent"

    assert ingest(batch) == NO_FAILURES
    [notice] = [json.loads(message["Body"]) for message in receive("AppealsNotificationsQueue")]
    assert (notice["type"], notice["notice_id"]) == ("appeal.urgent", f"appeal.urgent:{appeal_id(3)}:created")
    assert [event.type for event in appeal_events(receive)] == ["appeal.created"]

    corrected = TestClient(app).patch(
        f"/appeals/{appeal_id(3)}", json={"priority": "normal"}, headers=auth_header("operator", "54")
    )
    assert corrected.status_code == 200
    assert ingest(batch) == NO_FAILURES
    assert receive("AppealsNotificationsQueue") == [], "no longer urgent: no notice"
