"""Appeals test helpers: VK event fixtures, a projected demo page, and draining queues into the real handlers."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.events import Event, InstitutionUpserted, PageUpserted, make_event
from shared.vk_secret import hash_secret, new_salt
from tests import factories
from tooling.local.lambda_runtime import LambdaContext, sqs_event
from tooling.local.template import Template

EVENTS_DIR = Path(__file__).parent / "events"
GROUP_ID = 192764727
SECRET = "s3cr3t"
CONFIRMATION_CODE = "d8v2ve07"
CITIZEN_ID = 499047616
PAGES = {  # page_id: (group_id, institution_id, region_code) of the ``seeded`` appeals
    "page-1": (GROUP_ID, "inst-1", "54"),
    "page-2": (200000002, "inst-2", "54"),
    "page-3": (200000003, "inst-3", "77"),
}
BASE_DATE = 1767225600  # 2026-01-01T00:00:00Z


def load_event(name: str, **object_fields: Any) -> dict[str, Any]:
    """A fixture envelope from ``events/<name>.json`` with ``object`` fields overridden."""
    envelope: dict[str, Any] = json.loads((EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    if object_fields:
        envelope["object"] = {**envelope["object"], **object_fields}
        envelope["event_id"] = uuid.uuid4().hex
    return copy.deepcopy(envelope)


def page_upserted(**fields: Any) -> PageUpserted:
    """The demo page of the fixtures' VK community, with its callback secret hashed as the registry does."""
    salt = new_salt()
    secret = {"secret_salt": salt, "secret_hash": hash_secret(SECRET, salt), "confirmation_code": CONFIRMATION_CODE}
    return factories.page_upserted(**({"group_id": GROUP_ID} | secret | fields))


def institution_upserted(institution_id: str, region_code: str) -> InstitutionUpserted:
    """A registry institution of the region, as the projection receives it."""
    return InstitutionUpserted(
        institution_id=institution_id,
        region_code=region_code,
        name=f"Учреждение {institution_id}",
        kind="ministry",
        level="regional",
        spheres=(),
        revision=1,
    )


def _messages(bodies: list[str]) -> list[dict[str, Any]]:
    return [{"MessageId": uuid.uuid4().hex, "ReceiptHandle": "r", "Body": body} for body in bodies]


@pytest.fixture
def run_projection(aws: Template) -> Callable[..., dict[str, Any]]:
    """Deliver registry events to the projection worker as one SQS batch."""
    from services.appeals.projection import handler

    def run(*events: Event) -> dict[str, Any]:
        event = sqs_event(_messages([e.model_dump_json() for e in events]), queue_arn="arn:q", region=aws.region)
        result: dict[str, Any] = handler(event, LambdaContext(function_name="AppealsProjectionFunction"))
        return result

    return run


@pytest.fixture
def vk_page(run_projection: Callable[..., dict[str, Any]]) -> PageUpserted:
    """The fixtures' community, projected from a ``page.upserted`` event."""
    page = page_upserted()
    assert run_projection(make_event("registry", page)) == {"batchItemFailures": []}
    return page


@pytest.fixture
def receive(aws: Template) -> Callable[[str], list[dict[str, Any]]]:
    """Receive (and delete) every message currently on a queue of the template."""
    from shared.aws import sqs

    def take(queue_id: str) -> list[dict[str, Any]]:
        url = aws.queue_urls[queue_id]
        messages: list[dict[str, Any]] = []
        while (
            batch := sqs()
            .receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
            )
            .get("Messages", [])
        ):
            for message in batch:
                sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            messages += batch
        return messages

    return take


@pytest.fixture
def ingest(aws: Template) -> Callable[..., dict[str, Any]]:
    """Run the ingest worker on queued VK messages (bodies as the webhook writes them) as one batch."""
    from services.appeals.ingest import handler

    def run(messages: list[dict[str, Any]]) -> dict[str, Any]:
        event = sqs_event(messages, queue_arn="arn:ingest", region=aws.region)
        result: dict[str, Any] = handler(event, LambdaContext(function_name="AppealsIngestFunction"))
        return result

    return run


def queued(envelope: dict[str, Any], *, retry_counter: int | None = None) -> dict[str, Any]:
    """An ingest queue message as the webhook writes it."""
    body = {"received_at": "2026-11-22T10:00:00+00:00", "retry_counter": retry_counter, "envelope": envelope}
    body["envelope"].pop("secret", None)
    return _messages([json.dumps(body, ensure_ascii=False)])[0]


@pytest.fixture
def deliver(ingest: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Run the ingest worker on fixture envelopes, one SQS batch."""

    def run(*envelopes: dict[str, Any]) -> dict[str, Any]:
        return ingest([queued(copy.deepcopy(envelope)) for envelope in envelopes])

    return run


@pytest.fixture
def federal(auth_header: Callable[..., dict[str, str]]) -> dict[str, str]:
    """A federal admin's Authorization header."""
    return auth_header("federal_admin")


@pytest.fixture
def seeded(
    run_projection: Callable[..., Any], deliver: Callable[..., Any], federal: dict[str, str]
) -> dict[str, list[str]]:
    """Three appeals on each of ``PAGES``, one day apart from ``BASE_DATE``; the first appeal of page-1 is answered."""
    from fastapi.testclient import TestClient

    from services.appeals.app import app

    for page_id, (group_id, institution_id, region) in PAGES.items():
        run_projection(make_event("registry", institution_upserted(institution_id, region)))
        run_projection(
            make_event(
                "registry",
                page_upserted(page_id=page_id, group_id=group_id, institution_id=institution_id, region_code=region),
            )
        )
        for n in range(3):
            envelope = load_event("wall_reply_new", id=100 + n, date=BASE_DATE + n * 86400, post_id=1)
            deliver(
                {
                    **envelope,
                    "group_id": group_id,
                    "object": {**envelope["object"], "owner_id": -group_id, "post_owner_id": -group_id},
                }
            )
    reply = load_event("wall_reply_new_community", reply_to_comment=100, parents_stack=[100], post_id=1)
    reply["object"]["date"] = BASE_DATE + 3600
    deliver(reply)
    client = TestClient(app)
    items = client.get("/appeals", params={"region": "54"}, headers=federal).json()["items"]
    items += client.get("/appeals", params={"region": "77"}, headers=federal).json()["items"]
    by_page: dict[str, list[str]] = {}
    for item in items:
        by_page.setdefault(item["page_id"], []).append(item["id"])
    return by_page
