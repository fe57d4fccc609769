"""The embedded stack end to end over HTTP: health, docs, auth, queues through real handlers, DLQ, schedules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from shared.aws import sqs
from shared.events import ActivityRecorded, make_event
from tests.conftest import wait_for
from tests.factories import page_upserted
from tooling.local import keys
from tooling.local.stack import LocalStack

PAGE = page_upserted(page_id="pg-e2e", institution_id="in-e2e", group_id=555001, category="flagship")


@pytest.fixture(scope="module")
def http(local_stack: LocalStack) -> httpx.Client:
    token = keys.issue_token(local_stack.state_dir, role="regional_admin", region="54")
    return httpx.Client(base_url=local_stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _send(stack: LocalStack, queue_id: str, body: str) -> None:
    sqs().send_message(QueueUrl=stack.template.queue_urls[queue_id], MessageBody=body)


def test_health_reports_every_component(http: httpx.Client, local_stack: LocalStack) -> None:
    response = http.get("/health")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "ok"
    components = report["components"]
    assert {f"table:{t}" for t in local_stack.template.tables()} <= set(components)
    assert {f"queue:{q}" for q in local_stack.template.queue_urls} <= set(components)
    assert any(name.startswith("consumer:AppealsIngestFunction") for name in components)


def test_docs_show_the_openapi_of_all_services(http: httpx.Client) -> None:
    assert "swagger-ui" in http.get("/docs").text
    paths = http.get("/openapi.json").json()["paths"]
    assert any(path.startswith("/registry") for path in paths)
    assert any(path.startswith("/appeals") for path in paths)
    assert any(path.startswith("/metrics") for path in paths)


def test_protected_route_needs_a_token(local_stack: LocalStack, http: httpx.Client) -> None:
    assert httpx.get(f"{local_stack.base_url}/metrics/regions/54/activity").status_code == 401
    assert http.get("/metrics/regions/54/activity").status_code == 200
    assert http.get("/nowhere").status_code == 404


def test_sqs_message_round_trips_through_the_real_handler(local_stack: LocalStack, http: httpx.Client) -> None:
    _send(local_stack, "MetricsRegistryEventsQueue", make_event("registry", PAGE).model_dump_json())
    wait_for(lambda: http.get("/metrics/pages/pg-e2e/activity").status_code == 200)
    activity = ActivityRecorded(
        activity_id="e2e-1",
        page_id="pg-e2e",
        group_id=555001,
        institution_id="in-e2e",
        region_code="54",
        kind="post",
        occurred_at=datetime.now(UTC),
    )
    _send(local_stack, "ActivityQueue", make_event("appeals", activity).model_dump_json())
    report = wait_for(lambda: (r := http.get("/metrics/pages/pg-e2e/activity").json())["totals"].get("post") and r)
    assert report["totals"] == {"post": 1}


def test_poison_message_lands_in_the_dlq_after_five_receives(local_stack: LocalStack) -> None:
    poison = json.dumps({"event_id": "x", "producer": "test", "body": {"type": "activity.recorded", "version": 1}})
    _send(local_stack, "ActivityQueue", poison)
    dlq_url = local_stack.template.queue_urls["ActivityDLQ"]

    def dead_letters() -> list[dict[str, str]]:
        return sqs().receive_message(QueueUrl=dlq_url, AttributeNames=["All"], WaitTimeSeconds=1).get("Messages", [])

    messages = wait_for(dead_letters, timeout=30)
    assert messages[0]["Body"] == poison
    assert int(messages[0]["Attributes"]["ApproximateReceiveCount"]) >= 5
    consumer = next(c for c in local_stack.dispatcher.consumers if c.mapping.queue_id == "ActivityQueue")
    assert consumer.stats.failed >= 5


def test_schedule_fires_on_demand(local_stack: LocalStack) -> None:
    response = httpx.post(f"{local_stack.base_url}/_local/schedules/RegistryOutboxFunction")
    assert response.status_code == 200
    assert response.json()["result"]["execution_id"]
    assert local_stack.scheduler.runs["RegistryOutboxFunction"] == 1
    assert httpx.post(f"{local_stack.base_url}/_local/schedules/Nope").status_code == 404


def test_the_subscriber_sync_runs_against_the_fake_vk(local_stack: LocalStack) -> None:
    response = httpx.post(f"{local_stack.base_url}/_local/schedules/MetricsSubscribersFunction")
    assert response.status_code == 200
    result = response.json()["result"]["result"]
    assert set(result) == {"synced", "missing"} and result["missing"] == 0  # not skipped: the stack has a token
