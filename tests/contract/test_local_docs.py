"""The local stack's ``/docs`` works offline (Swagger UI from the pinned package, no CDN), and its ``/health``
answers what the merged OpenAPI declares."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from services.appeals.app import app as appeals
from services.metrics.app import app as metrics
from services.registry.app import app as registry
from tooling.local.gateway import local_routes

OK = {
    "status": "ok",
    "components": {
        "table:RegistryTable": "ok",
        "queue:IngestQueue": {"status": "ok", "visible": 3, "in_flight": 1},
        "consumer:AppealsIngestFunction:IngestQueue": {"status": "ok", "batches": 2, "succeeded": 2, "failed": 0},
        "schedule:RegistryOutboxFunction": {"status": "ok", "runs": 5},
    },
}
DEGRADED = {
    "status": "degraded",
    "components": {
        "table:RegistryTable": "missing",
        "consumer:AppealsIngestFunction:IngestQueue": {"status": "stopped", "batches": 0, "succeeded": 0, "failed": 0},
    },
}


def _gateway(report: dict[str, Any], state_dir: Path) -> TestClient:
    stack = SimpleNamespace(
        base_url="http://127.0.0.1:8000",
        state_dir=state_dir,
        health=lambda: report,
        scheduler=SimpleNamespace(schedules={}),
        queue_depths=dict,
    )
    return TestClient(local_routes(stack, [registry, appeals, metrics]))  # type: ignore[arg-type]


def test_docs_reference_only_local_assets_and_they_are_served(tmp_path: Path) -> None:
    client = _gateway(OK, tmp_path)
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert {"/openapi.json", "/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"} <= set(urls)
    assert "//" not in page.text.replace("://127.0.0.1", ""), "an absolute URL: the page would need the network"
    for url in urls:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(("report", "status"), [(OK, 200), (DEGRADED, 503)])
def test_health_answers_the_declared_schema(report: dict[str, Any], status: int, tmp_path: Path) -> None:
    client = _gateway(report, tmp_path)
    spec = client.get("/openapi.json").json()
    declared = spec["paths"]["/health"]["get"]["responses"][str(status)]["content"]["application/json"]["schema"]
    response = client.get("/health")
    assert response.status_code == status and response.json() == report
    jsonschema.validate(response.json(), {**declared, "components": spec["components"]})
