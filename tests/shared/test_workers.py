"""Worker entrypoints: event routing by type and version, the Yandex Message Queue adapter, schedules."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from fastapi.testclient import TestClient
from pydantic import ValidationError

from shared.events import ActivityRecorded, Event, PageArchived, make_event
from shared.workers import (
    WORKER_HANDLER_VARIABLE,
    BatchFailedError,
    ScheduledRun,
    event_router,
    scheduled_handler,
    ymq_entrypoint,
)
from tests.factories import page_upserted
from tooling.local.lambda_runtime import LambdaContext

ARCHIVED = make_event(
    "registry", PageArchived(page_id="p", institution_id="i", region_code="54", platform="vk", revision=2)
)


def _record(body: str) -> SQSRecord:
    return SQSRecord({"messageId": "m", "body": body, "attributes": {}, "messageAttributes": {}})


def test_router_calls_the_handler_of_the_type_and_skips_other_types() -> None:
    seen: list[Event] = []
    route = event_router({"page.archived": seen.append}, service="test")
    route(_record(ARCHIVED.model_dump_json()))
    event_router({"activity.recorded": seen.append}, service="test")(_record(ARCHIVED.model_dump_json()))
    assert [event.event_id for event in seen] == [ARCHIVED.event_id]


def test_router_refuses_unknown_versions_so_the_record_is_retried() -> None:
    body = json.loads(ARCHIVED.model_dump_json())
    body["body"]["version"] = 2
    with pytest.raises(ValidationError):
        event_router({}, service="test")(_record(json.dumps(body)))


def _ymq_event(bodies: list[str]) -> dict[str, Any]:
    """What a Yandex Cloud Functions trigger for Message Queue delivers."""
    return {
        "messages": [
            {
                "event_metadata": {"event_type": "yandex.cloud.events.messagequeue.QueueMessage"},
                "details": {
                    "queue_id": "yrn:yc:ymq:ru-central1:b1g:metrics-activity",
                    "message": {"message_id": f"m{i}", "md5_of_body": "", "body": body, "attributes": {}},
                },
            }
            for i, body in enumerate(bodies)
        ]
    }


PAGE = make_event("registry", page_upserted(page_id="pg-ymq", institution_id="in-ymq")).model_dump_json()
"""The page the activities are on, as the registry announces it (rollups count pages metrics knows)."""


def _activity(activity_id: str) -> str:
    payload = ActivityRecorded(
        activity_id=activity_id,
        page_id="pg-ymq",
        group_id=201077021,
        institution_id="in-ymq",
        region_code="54",
        kind="comment",
        occurred_at=datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
    return make_event("appeals", payload).model_dump_json()


def _region_comments(auth_header: Callable[..., dict[str, str]]) -> int:
    """The region's comments as the metrics API reports them, once the rollup has run (region figures are rolled up)."""
    from services.metrics import bootstrap, rollups
    from services.metrics.app import app

    rollups.roll_up(repository=bootstrap.repository(), execution_id=uuid.uuid4().hex)

    response = TestClient(app).get(
        "/metrics/regions/54/activity?from=2026-11-20&to=2026-11-20", headers=auth_header("regional_admin", "54")
    )
    assert response.status_code == 200, response.text
    return int(response.json()["totals"].get("comment", 0))


class YandexFunctionContext:
    """The attributes a Yandex Cloud Functions (Python runtime) context has: no Lambda ARN or aws_request_id."""

    function_name = "metrics-events"
    function_version = "d4e1"
    memory_limit_in_mb = 256
    request_id = "req-1"


def test_a_real_worker_runs_behind_a_yandex_message_queue_trigger(
    aws: Any, auth_header: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    del aws
    monkeypatch.setenv(WORKER_HANDLER_VARIABLE, "services.metrics.events.handler")
    event = _ymq_event([PAGE, _activity("ymq-1"), _activity("ymq-2"), _activity("ymq-1")])
    assert ymq_entrypoint(event, YandexFunctionContext()) == {"statusCode": 200}
    assert _region_comments(auth_header) == 2, "the redelivered activity counts once"


def test_a_failed_record_fails_the_whole_yandex_batch_so_it_is_redelivered(
    aws: Any, auth_header: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    del aws
    monkeypatch.setenv(WORKER_HANDLER_VARIABLE, "services.metrics.events.handler")
    event = _ymq_event([PAGE, _activity("ymq-3"), "not an event"])
    with pytest.raises(BatchFailedError, match="1 of 3"):
        ymq_entrypoint(event, YandexFunctionContext())
    assert ymq_entrypoint(_ymq_event([_activity("ymq-3")]), YandexFunctionContext()) == {"statusCode": 200}
    assert _region_comments(auth_header) == 1, "the good record of the failed batch counts once after redelivery"


def test_scheduled_handler_parses_the_scheduler_input() -> None:
    runs: list[ScheduledRun] = []

    def job(run: ScheduledRun) -> Any:
        runs.append(run)
        return {"republished": 0}

    handler = scheduled_handler(job, service="test")
    event = {"scheduled_time": "2026-11-22T10:00:00Z", "execution_id": "exec-1"}
    result = handler(event, LambdaContext(function_name="Job"))
    assert result == {"execution_id": "exec-1", "result": {"republished": 0}}
    assert runs[0].scheduled_time.year == 2026


def test_a_rejected_event_does_not_echo_its_values_into_the_error() -> None:
    body = json.loads(ARCHIVED.model_dump_json())
    body["body"]["payload"]["revision"] = "Иванов Иван, ул. Ленина 5"
    with pytest.raises(ValidationError) as caught:
        event_router({}, service="test")(_record(json.dumps(body)))
    assert "Иванов" not in str(caught.value)
