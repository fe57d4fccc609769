"""The appeals service's projection of registry pages: ``group_id -> page`` with its callback secret hash.

Written by the projection worker from ``page.upserted``/``page.archived`` events (newest ``revision`` wins), read by
the webhook and the ingest worker through a small in-memory TTL cache keyed by table name, so a cached entry can
never leak across stacks (or tests).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shared.aws import dynamodb
from shared.config import get_settings
from shared.dynamo import deserialize, serialize, serialize_value
from shared.events import PageArchived, PageUpserted

PAGE_SK = "PAGE"
CACHE_MAX_ENTRIES = 10_000
_cache: dict[tuple[str, int], tuple[float, PageRef | None]] = {}


@dataclass(frozen=True, slots=True)
class PageRef:
    """What the appeals service knows about a registered VK page."""

    page_id: str
    institution_id: str
    region_code: str
    group_id: int
    status: str
    revision: int
    secret_salt: str | None = None
    secret_hash: str | None = None
    confirmation_code: str | None = None

    @property
    def active(self) -> bool:
        """True unless the page is archived."""
        return self.status == "active"


def group_key(group_id: int) -> dict[str, Any]:
    """Key of the by-group projection item."""
    return {"PK": {"S": f"GROUP#{group_id}"}, "SK": {"S": PAGE_SK}}


def page_key(page_id: str) -> dict[str, Any]:
    """Key of the by-page projection item."""
    return {"PK": {"S": f"PAGE#{page_id}"}, "SK": {"S": PAGE_SK}}


def _page_ref(item: dict[str, Any]) -> PageRef:
    data = deserialize(item)
    return PageRef(
        page_id=data["page_id"],
        institution_id=data["institution_id"],
        region_code=data["region_code"],
        group_id=int(data["group_id"]),
        status=data["status"],
        revision=int(data["revision"]),
        secret_salt=data.get("secret_salt"),
        secret_hash=data.get("secret_hash"),
        confirmation_code=data.get("confirmation_code"),
    )


def read_page_by_group(group_id: int) -> PageRef | None:
    """The projected page of a VK community, uncached (``None`` if unknown)."""
    item = dynamodb().get_item(TableName=get_settings().appeals_table, Key=group_key(group_id)).get("Item")
    return _page_ref(item) if item else None


def read_page(page_id: str) -> PageRef | None:
    """The projected page by its registry id, uncached (``None`` if unknown)."""
    item = dynamodb().get_item(TableName=get_settings().appeals_table, Key=page_key(page_id)).get("Item")
    return _page_ref(item) if item else None


def lookup_page(group_id: int) -> PageRef | None:
    """The projected page of a VK community through the TTL cache (unknown groups are cached too)."""
    settings = get_settings()
    key = (settings.appeals_table, group_id)
    now = time.monotonic()
    cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    page = read_page_by_group(group_id)
    if len(_cache) >= CACHE_MAX_ENTRIES:
        _cache.clear()
    _cache[key] = (now + settings.page_cache_ttl_seconds, page)
    return page


def clear_page_cache() -> None:
    """Forget every cached lookup."""
    _cache.clear()


def _newer_revision() -> str:
    return "attribute_not_exists(PK) OR revision <= :revision"


def apply_page_upserted(page: PageUpserted) -> bool:
    """Store the page's full state unless a newer revision is already stored; True if applied.

    The by-page item carries the revision check; the by-group item follows it in the same transaction, and a
    group id the page no longer has is released unless another page took it meanwhile.
    """
    if page.platform != "vk" or page.group_id is None:
        return False
    table = get_settings().appeals_table
    previous = read_page(page.page_id)
    state = {
        "page_id": page.page_id,
        "institution_id": page.institution_id,
        "region_code": page.region_code,
        "group_id": page.group_id,
        "status": page.status,
        "revision": page.revision,
        "secret_salt": page.secret_salt,
        "secret_hash": page.secret_hash,
        "confirmation_code": page.confirmation_code,
        "entity": "page",
    }
    items: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table,
                "Item": {**page_key(page.page_id), **serialize(state)},
                "ConditionExpression": _newer_revision(),
                "ExpressionAttributeValues": {":revision": serialize_value(page.revision)},
            }
        },
        {"Put": {"TableName": table, "Item": {**group_key(page.group_id), **serialize(state)}}},
    ]
    if previous is not None and previous.group_id != page.group_id:
        items.append(_release_group(table, previous.group_id, page.page_id))
    return _transact(items)


def apply_page_archived(page: PageArchived) -> bool:
    """Mark the page (and its group) archived unless a newer revision is stored; True if applied."""
    table = get_settings().appeals_table
    previous = read_page(page.page_id)
    group_id = page.group_id if page.group_id is not None else (previous.group_id if previous else None)
    if page.platform != "vk" or group_id is None:
        return False
    archive = {
        "UpdateExpression": "SET #status = :archived, revision = :revision, page_id = :page_id, "
        "institution_id = :institution_id, region_code = :region_code, group_id = :group_id, entity = :entity",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":archived": {"S": "archived"},
            ":revision": serialize_value(page.revision),
            ":page_id": {"S": page.page_id},
            ":institution_id": {"S": page.institution_id},
            ":region_code": {"S": page.region_code},
            ":group_id": serialize_value(group_id),
            ":entity": {"S": "page"},
        },
    }
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": table,
                "Key": page_key(page.page_id),
                "ConditionExpression": _newer_revision(),
                **archive,
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": group_key(group_id),
                "ConditionExpression": "attribute_not_exists(PK) OR page_id = :page_id",
                **archive,
            }
        },
    ]
    return _transact(items)


def _release_group(table: str, group_id: int, page_id: str) -> dict[str, Any]:
    return {
        "Delete": {
            "TableName": table,
            "Key": group_key(group_id),
            "ConditionExpression": "attribute_not_exists(PK) OR page_id = :page_id",
            "ExpressionAttributeValues": {":page_id": {"S": page_id}},
        }
    }


def _transact(items: list[dict[str, Any]]) -> bool:
    """Run the projection transaction; False when the page item is stale, retrying without a lost group claim."""
    client = dynamodb()
    try:
        client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    except client.exceptions.TransactionCanceledException as error:
        reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
        if reasons[:1] == ["ConditionalCheckFailed"]:
            return False
        if "ConditionalCheckFailed" in reasons[1:]:  # the group belongs to another page now: leave it alone
            return _transact(items[:1])
        raise
    return True
