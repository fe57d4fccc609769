"""A seeded world for the contract tests: one institution of region 54 with a VK page, an appeal and its activity,
made through the real flow (registry API, queues drained into the template's workers, the VK webhook).

Module-scoped, unlike ``aws``: every operation of every service is tested against the one world (and what the
generated writes add to it), so the template is provisioned and seeded once per module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared import wiring
from tests.conftest import provisioned
from tests.factories import wall_comment
from tests.registry.helpers import institution_payload, page_payload
from tooling.local import keys
from tooling.local.lambda_runtime import LambdaContext, load_handler, sqs_event
from tooling.local.template import Template

REGION = "54"
SECRET = "contract-secret-0123456789"


@dataclass(frozen=True)
class World:
    """What the seeded data is called, and a bearer header for each role (all scoped to it)."""

    institution_id: str
    page_id: str
    appeal_id: str
    headers: dict[str, dict[str, str]]

    def aim(self, parameters: dict[str, Any] | None) -> dict[str, Any] | None:
        """``parameters`` (path or query) with those that name a seeded object (by the name the services' routes
        give it) set to it."""
        if not parameters:
            return parameters
        ids = {
            "institution_id": self.institution_id,
            "page_id": self.page_id,
            "appeal_id": self.appeal_id,
            "region_code": REGION,
            "region": REGION,
        }
        return {name: ids.get(name, value) for name, value in parameters.items()}


def deliver_queued(template: Template) -> int:
    """Hand every message queued for a worker of the template to that worker (as the local stack does) until none
    is left; the number of messages handed over."""
    from shared.aws import sqs

    delivered = 0
    for _ in range(5):
        moved = 0
        for mapping in template.queue_mappings():
            url = template.queue_urls[mapping.queue_id]
            while (
                messages := sqs()
                .receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
                )
                .get("Messages", [])
            ):
                event = sqs_event(messages, queue_arn=f"arn:{mapping.queue_id}", region=template.region)
                result = load_handler(mapping.handler)(event, LambdaContext(function_name=mapping.function_id))
                assert not result or not result.get("batchItemFailures"), (mapping.function_id, result)
                for message in messages:
                    sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                moved += len(messages)
        delivered += moved
        if not moved:
            return delivered
    return delivered


@pytest.fixture(scope="module")
def contract_aws(moto_endpoint: str, key_dir: Path, fake_vk: str) -> Iterator[Template]:
    """What ``aws`` sets up, for a whole module, with VK calls going to the fake VK."""
    with (
        pytest.MonkeyPatch.context() as env,
        provisioned(env, moto_endpoint=moto_endpoint, key_dir=key_dir, log_level="WARNING") as template,
    ):
        env.setenv("GOSPUBLIKI_VK_API_URL", f"{fake_vk}/method")
        wiring.reset()
        yield template


@pytest.fixture(scope="module")
def world(contract_aws: Template, key_dir: Path) -> World:
    """The seeded world over the module's tables and queues."""
    from services.appeals.webhook import app as webhook
    from services.registry.app import app as registry

    def bearer(role: str, region: str | None = None, institution: str | None = None) -> dict[str, str]:
        token = keys.issue_token(key_dir, role=role, region=region, institution=institution)
        return {"Authorization": f"Bearer {token}"}

    federal = bearer("federal_admin")
    with TestClient(registry) as client:
        institution = client.post("/registry/institutions", json=institution_payload(REGION), headers=federal)
        assert institution.status_code == 201, institution.text
        institution_id = institution.json()["id"]
        page = client.post(f"/registry/institutions/{institution_id}/pages", json=page_payload(), headers=federal)
        assert page.status_code == 201, page.text
        page_id, group_id = page.json()["id"], page.json()["group_id"]
        callback = {"confirmation_code": "d8v2ve07", "secret": SECRET}
        assert client.put(f"/registry/pages/{page_id}/callback", json=callback, headers=federal).status_code == 200
    deliver_queued(contract_aws)
    with TestClient(webhook) as client:
        answer = client.post(
            "/vk/callback", json=wall_comment(group_id, SECRET, "Когда починят освещение во дворе?", date=1767225600)
        )
        assert (answer.status_code, answer.text) == (200, "ok")
    deliver_queued(contract_aws)
    scopes = {
        "federal_admin": (None, None),
        "regional_admin": (REGION, None),
        "operator": (REGION, None),
        "institution_admin": (REGION, institution_id),
        "portal": (REGION, None),
    }
    headers = {role: bearer(role, *scope) for role, scope in scopes.items()}
    return World(
        institution_id=institution_id, page_id=page_id, appeal_id=_appeal_of(page_id, headers), headers=headers
    )


def _appeal_of(page_id: str, headers: dict[str, dict[str, str]]) -> str:
    """The id of the seeded appeal, as the appeals API lists it (a made-up id if it cannot: the appeals contract test
    then names the failing list)."""
    from services.appeals.app import app as appeals

    with TestClient(appeals, raise_server_exceptions=False) as client:
        listed = client.get("/appeals", params={"page_id": page_id}, headers=headers["regional_admin"])
    items = listed.json().get("items", []) if listed.status_code == 200 else []
    return str(items[0]["id"]) if items else "unlisted-appeal"
