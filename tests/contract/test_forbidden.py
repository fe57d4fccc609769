"""Every 403 says what was refused and why, in the one error shape: ``... may not <action>: <reason>``."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from services.appeals.app import app as appeals
from services.metrics.app import app as metrics
from services.registry.app import app as registry
from tests.contract.conftest import REGION, World
from tests.registry.helpers import institution_payload

APPS = {"registry": registry, "metrics": metrics, "appeals": appeals}
BODIES = {
    "/registry/institutions": institution_payload(REGION),
    "/registry/pages/{page_id}/callback": {"confirmation_code": "a1b2c3d4", "secret": "another-secret-0123456789"},
    f"/registry/regions/{REGION}/settings": {},
}
REFUSAL = re.compile(r"may not (?P<action>[^:]+): (?P<reason>\S.*)")

CASES = [  # role, request (the path with the seeded page), the action the refusal names, a phrase of its reason
    ("operator", "POST /registry/institutions", "change institutions", "read-only"),
    ("portal", "PUT /registry/pages/{page_id}/callback", "change pages", "read-only"),
    ("operator", f"PUT /registry/regions/{REGION}/settings", "change region settings", "read-only"),
    ("institution_admin", "GET /registry/coverage", "read coverage", "needs a regional role"),
    ("institution_admin", f"GET /registry/export?region={REGION}", "export the registry", "needs a regional role"),
    ("institution_admin", f"GET /metrics/regions/{REGION}/activity", "read region metrics", "needs a regional role"),
    ("portal", "GET /appeals", "read appeals", "personal data"),
]


@pytest.mark.parametrize(("role", "request_line", "action", "reason"), CASES)
def test_a_refusal_names_the_action_and_the_reason(
    world: World, role: str, request_line: str, action: str, reason: str
) -> None:
    method, target = request_line.split(" ")
    path = target.partition("?")[0]
    with TestClient(APPS[path.split("/")[1]]) as client:
        response = client.request(
            method, target.format(page_id=world.page_id), json=BODIES.get(path), headers=world.headers[role]
        )
    assert response.status_code == 403, response.text
    answer = response.json()
    assert answer["detail"] == [{"field": None, "message": answer["message"]}]
    refusal = REFUSAL.search(answer["message"])
    assert refusal is not None, answer["message"]
    assert refusal["action"] == action and reason in refusal["reason"], answer["message"]
