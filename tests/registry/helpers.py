"""Registry test helpers: valid registration numbers, payload builders, queue draining."""

from __future__ import annotations

import itertools
import json
from typing import Any

_counter = itertools.count(1)


def make_inn(serial: int, region: str = "54") -> str:
    """A valid 10-digit organisation INN."""
    from stdnum.ru import inn

    body = f"{region}{serial:07d}"
    return body + inn.calc_company_check_digit(body)


def make_ogrn(serial: int, region: str = "54") -> str:
    """A valid 13-digit OGRN."""
    body = f"1{region[:2]}{serial:09d}"
    return body + str(int(body) % 11 % 10)


def institution_payload(region: str = "54", **overrides: Any) -> dict[str, Any]:
    """A valid ``POST /registry/institutions`` body with fresh INN/OGRN."""
    serial = next(_counter)
    body = {
        "name": f"МБОУ СОШ № {serial}",
        "inn": make_inn(serial, region),
        "ogrn": make_ogrn(serial, region),
        "region_code": region,
        "level": "municipal",
        "kind": "school",
        "spheres": ["education"],
    }
    body.update(overrides)
    return body


def page_payload(group_id: int | None = 0, **overrides: Any) -> dict[str, Any]:
    """A valid VK page body (a fresh community id unless given; ``None`` for none)."""
    group_id = 200_000_000 + next(_counter) if group_id == 0 else group_id
    body = {"platform": "vk", "group_id": group_id, "url": f"https://vk.com/club{group_id}", "category": "active"}
    body.update(overrides)
    return body


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Every message body currently in a queue (parsed JSON), deleting them."""
    from shared.aws import sqs

    bodies: list[dict[str, Any]] = []
    while True:
        response = sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = response.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs().delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
