"""Worker entrypoints: event routing by type and version, the Yandex Message Queue adapter, schedules."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from shared.events import Event, PageArchived, make_event
from shared.workers import ScheduledRun, event_router, scheduled_handler, ymq_handler
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


def test_yandex_message_queue_envelope_reaches_the_same_record_handler() -> None:
    bodies: list[str] = []
    handler = ymq_handler(lambda record: bodies.append(record.body))
    event = {
        "messages": [
            {"details": {"message": {"message_id": "1", "body": "a"}}},
            {"details": {"message": {"message_id": "2", "body": "b"}}},
        ]
    }
    assert handler(event, None) == {"statusCode": 200}
    assert bodies == ["a", "b"]


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
