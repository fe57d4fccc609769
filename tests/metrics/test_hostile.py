"""Hostile input to the metrics API: bad days and ids are 422 naming the parameter, never a 500; region-wide figures
follow the one rule of all services (another region 404, an institution admin 403 saying why).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from services.metrics import events as worker
from services.metrics.app import app
from shared.events import make_event
from tests.factories import page_upserted
from tooling.local.lambda_runtime import LambdaContext, sqs_event
from tooling.local.template import Template

Header = Callable[..., dict[str, str]]
PAGE = page_upserted(page_id="pg-1", institution_id="in-1")


@pytest.fixture
def client(aws: Template) -> TestClient:
    """The metrics API with ``PAGE`` projected."""
    message = {"MessageId": "m", "ReceiptHandle": "r", "Body": make_event("registry", PAGE).model_dump_json()}
    event = sqs_event([message], queue_arn="arn:metrics", region=aws.region)
    assert worker.handler(event, LambdaContext(function_name="MetricsEventsFunction")) == {"batchItemFailures": []}
    return TestClient(app)


BAD_PERIODS = [  # (query, the parameter the 422 names)
    ({"to": "0001-01-01"}, "to"),
    ({"from": "0001-01-01"}, "from"),
    ({"to": "9999-12-31"}, "to"),
    ({"from": "1999-12-31", "to": "2000-01-01"}, "from"),
    ({"to": "2026-11-2²"}, "to"),
    ({"to": "2026-11-22T10:00:00+07:00"}, "to"),
    ({"from": "2026-02-30"}, "from"),
    ({"from": "2026-11-23", "to": "2026-11-22"}, "from"),
    ({"from": "2025-11-21", "to": "2026-11-22"}, "from"),
]


@pytest.mark.parametrize("path", ["/metrics/regions/54/activity", "/metrics/pages/pg-1/activity"])
def test_bad_days_and_periods_are_422_naming_the_parameter(client: TestClient, auth_header: Header, path: str) -> None:
    for params, field in BAD_PERIODS:
        response = client.get(path, params=params, headers=auth_header("federal_admin"))
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["field"] == field, params


def test_a_period_of_366_days_is_the_longest(client: TestClient, auth_header: Header) -> None:
    params = {"from": "2025-11-22", "to": "2026-11-22"}
    response = client.get("/metrics/regions/54/activity", params=params, headers=auth_header("federal_admin"))
    assert response.status_code == 200, response.text


def test_page_ids_that_cannot_be_ours_are_422_before_they_reach_a_table_key(
    client: TestClient, auth_header: Header
) -> None:
    for page_id in ("p" * 3000, "PAGE%23pg-1", "%C2%B2", "pg-1%00"):
        response = client.get(f"/metrics/pages/{page_id}/activity", headers=auth_header("federal_admin"))
        assert response.status_code == 422, (page_id, response.text)
        assert response.json()["detail"][0]["field"] == "page_id"


def test_region_figures_follow_the_one_rule_of_region_wide_reads(client: TestClient, auth_header: Header) -> None:
    path = "/metrics/regions/54/activity"
    for role in ("federal_admin", "regional_admin", "operator", "portal"):
        assert client.get(path, headers=auth_header(role, None if role == "federal_admin" else "54")).status_code == 200
    assert client.get("/metrics/regions/77/activity", headers=auth_header("regional_admin", "54")).status_code == 404
    institution_admin = auth_header("institution_admin", "54", "in-1")
    refused = client.get(path, headers=institution_admin)
    assert refused.status_code == 403
    assert "region-wide" in refused.json()["message"] and "institution_admin" in refused.json()["message"]
    assert client.get("/metrics/regions/77/activity", headers=institution_admin).status_code == 404
    assert client.get("/metrics/pages/pg-1/activity", headers=institution_admin).status_code == 200, "its own page"
