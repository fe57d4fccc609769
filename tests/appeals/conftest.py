"""Appeals test helpers: VK event fixtures, a projected demo page, and draining queues into the real handlers."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.events import Event, PageUpserted, make_event
from shared.vk_secret import hash_secret, new_salt
from tests import factories
from tooling.local.lambda_runtime import LambdaContext, sqs_event
from tooling.local.template import Template

EVENTS_DIR = Path(__file__).parent / "events"
GROUP_ID = 192764727
SECRET = "s3cr3t"
CONFIRMATION_CODE = "d8v2ve07"
CITIZEN_ID = 499047616


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
