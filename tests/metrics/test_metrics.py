"""Metrics worker: activity counted once per event in the region's local day; page projection by revision."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from services.metrics import bootstrap, rollups
from services.metrics import events as worker
from services.metrics.app import app
from shared.events import ActivityRecorded, make_event
from tests.factories import page_upserted
from tooling.local.lambda_runtime import LambdaContext
from tooling.local.template import Template

PAGE = page_upserted(page_id="pg-1", institution_id="in-1")


def _sqs_event(bodies: list[str]) -> dict[str, object]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-central-1:123456789012:q",
                "awsRegion": "eu-central-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def _activity(activity_id: str, kind: str, when: datetime) -> str:
    payload = ActivityRecorded(
        activity_id=activity_id,
        page_id="pg-1",
        group_id=201077021,
        institution_id="in-1",
        region_code="54",
        kind=kind,  # type: ignore[arg-type]
        occurred_at=when,
    )
    return make_event("appeals", payload).model_dump_json()


@pytest.fixture
def client(aws: Template) -> TestClient:  # noqa: ARG001 - provisions tables and env
    return TestClient(app)


def test_redelivered_activity_counts_once_on_the_local_day(
    client: TestClient, auth_header: Callable[..., dict[str, str]]
) -> None:
    # 20:30 UTC on 21 Nov is 03:30 on 22 Nov in Novosibirsk (UTC+7)
    late = datetime(2026, 11, 21, 20, 30, tzinfo=UTC)
    bodies = [make_event("registry", PAGE).model_dump_json(), _activity("a-1", "post", late)]
    bodies += [_activity("a-1", "post", late), _activity("a-2", "join", late)]
    result = worker.handler(_sqs_event(bodies), LambdaContext(function_name="MetricsEventsFunction"))
    assert result["batchItemFailures"] == []
    worker.handler(_sqs_event([_activity("a-2", "join", late)]), LambdaContext(function_name="f"))

    response = client.get(
        "/metrics/pages/pg-1/activity",
        params={"from": "2026-11-20", "to": "2026-11-23"},
        headers=auth_header("operator", "54"),
    )
    assert response.status_code == 200
    report = response.json()
    assert report["totals"] == {"post": 1, "join": 1}
    assert [day["day"] for day in report["days"]] == ["2026-11-22"]
    rollups.roll_up(repository=bootstrap.repository(), execution_id="run-1")
    region = client.get(
        "/metrics/regions/54/activity",
        params={"from": "2026-11-22", "to": "2026-11-22"},
        headers=auth_header("federal_admin"),
    )
    assert region.json()["totals"] == {"post": 1, "join": 1}


def test_poison_and_future_versions_fail_only_their_record(aws: Template) -> None:  # noqa: ARG001
    future = json.loads(make_event("registry", PAGE).model_dump_json())
    future["body"]["version"] = 2
    bodies = ["not json", json.dumps(future), make_event("registry", PAGE).model_dump_json()]
    result = worker.handler(_sqs_event(bodies), LambdaContext(function_name="f"))
    assert result["batchItemFailures"] == [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]


def test_stale_page_revision_is_ignored_and_scope_follows_the_projection(
    client: TestClient, auth_header: Callable[..., dict[str, str]]
) -> None:
    newer = PAGE.model_copy(update={"region_code": "01", "revision": 2})
    worker.handler(_sqs_event([make_event("registry", newer).model_dump_json()]), LambdaContext(function_name="f"))
    worker.handler(_sqs_event([make_event("registry", PAGE).model_dump_json()]), LambdaContext(function_name="f"))
    assert client.get("/metrics/pages/pg-1/activity", headers=auth_header("operator", "54")).status_code == 404
    assert client.get("/metrics/pages/pg-1/activity", headers=auth_header("operator", "01")).status_code == 200


def test_bad_periods_are_422_naming_the_field(client: TestClient, auth_header: Callable[..., dict[str, str]]) -> None:
    headers = auth_header("federal_admin")
    reversed_period = client.get("/metrics/regions/54/activity?from=2026-11-22&to=2026-11-01", headers=headers)
    assert reversed_period.status_code == 422 and reversed_period.json()["detail"][0]["field"] == "from"
    not_a_date = client.get("/metrics/regions/54/activity?to=yesterday", headers=headers)
    assert not_a_date.status_code == 422 and not_a_date.json()["detail"][0]["field"] == "to"
    unknown_region = client.get("/metrics/regions/99/activity", headers=headers)
    assert unknown_region.status_code == 422 and unknown_region.json()["detail"][0]["field"] == "region_code"
