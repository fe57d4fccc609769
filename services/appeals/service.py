"""Appeals: exactly-once writes from VK events (dedupe items in the same transaction as the effect) and reads.

Table layout (``AppealsTable``):

- ``APPEAL#{id}`` / ``APPEAL`` - the appeal; ``id`` is derived from the comment's or message's natural key, so the
  conditional put of the appeal *is* the natural-key dedupe. GSI1 ``REGION#{code}``, GSI2 ``INST#{id}``, both
  sorted by ``{received_at UTC}#{id}``.
- ``EVENT#{group_id}#{event_id}`` / ``EVENT`` - VK event seen (TTL 72 h), put in every effect's transaction.
- ``THREAD#{thread}`` / ``{date}#{id}`` - appeals of a post/topic/photo/video/item or dialog in VK order, so a
  community reply can find the earliest unanswered one.
- ``REPLY#{id}`` / ``REPLY`` - a community reply already applied (its natural-key dedupe).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.appeals import pages
from services.appeals.models import Appeal, AppealFilters, AppealPage, AppealReply, AppealSource, DeletedBy
from services.appeals.pages import PageRef
from services.appeals.vk import stable_id, vk_time
from shared.auth import Principal, Role
from shared.aws import dynamodb
from shared.config import get_settings
from shared.dynamo import decode_cursor, deserialize, encode_cursor, serialize, serialize_value
from shared.errors import InvalidInputError, NotFoundError
from shared.events import ActivityKind, ActivityRecorded
from shared.regions import get_region

EVENT_TTL_SECONDS = 72 * 3600
MAX_LIST_QUERIES = 5


class AnswerConflictError(Exception):
    """The target appeal was answered concurrently; the record is retried and picks the next one."""


@dataclass(frozen=True, slots=True)
class NewAppeal:
    """A citizen's comment or message, ready to be stored."""

    natural_key: str
    thread: str
    root: int | None
    source: AppealSource
    author_id: int
    text: str
    date: int

    @property
    def id(self) -> str:
        return stable_id(self.natural_key)


@dataclass(frozen=True, slots=True)
class CommunityReply:
    """The community's own comment or message that may answer an appeal."""

    natural_key: str
    thread: str
    reply_to: str | None
    root: int | None
    reply: AppealReply


# ---------------------------------------------------------------- keys and items


def appeal_key(appeal_id: str) -> dict[str, Any]:
    """Key of an appeal item."""
    return {"PK": {"S": f"APPEAL#{appeal_id}"}, "SK": {"S": "APPEAL"}}


def _sort_key(date: int, appeal_id: str) -> str:
    return f"{vk_time(date).strftime('%Y-%m-%dT%H:%M:%SZ')}#{appeal_id}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_time(date: int, region_code: str) -> datetime:
    """A VK timestamp in the region's time zone."""
    return vk_time(date).astimezone(get_region(region_code).zone)


def _event_put(table: str, *, group_id: int, event_id: str, event_type: str) -> dict[str, Any]:
    item = {
        "PK": f"EVENT#{group_id}#{event_id}",
        "SK": "EVENT",
        "type": event_type,
        "expires_at": int(time.time()) + EVENT_TTL_SECONDS,
    }
    return {"Put": {"TableName": table, "Item": serialize(item), "ConditionExpression": "attribute_not_exists(PK)"}}


def _history_entry(action: str, at: datetime, *, text: str | None = None, by: str | None = None) -> dict[str, Any]:
    return serialize_value({"action": action, "at": at.isoformat(), "text": text, "by": by})


def _commit(items: Sequence[Mapping[str, Any]]) -> list[str]:
    """Run a transaction; the per-item cancellation codes (empty when it committed)."""
    client = dynamodb()
    try:
        client.transact_write_items(TransactItems=list(items))  # type: ignore[arg-type]
    except client.exceptions.TransactionCanceledException as error:
        codes = [str(reason.get("Code")) for reason in error.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" not in codes:
            raise
        return codes
    return []


def _failed(codes: list[str], index: int) -> bool:
    return len(codes) > index and codes[index] == "ConditionalCheckFailed"


# ---------------------------------------------------------------- writes (one transaction per VK event)


def record_appeal(*, page: PageRef, appeal: NewAppeal, event_id: str, event_type: str) -> bool:
    """Store a citizen's appeal once per VK event and per natural key; True if it is new."""
    table = get_settings().appeals_table
    received_at = local_time(appeal.date, page.region_code)
    sort_key = _sort_key(appeal.date, appeal.id)
    thread_sk = f"{appeal.date:012d}#{appeal.id}"
    item = {
        **appeal_key(appeal.id),
        **serialize(
            {
                "entity": "appeal",
                "id": appeal.id,
                "page_id": page.page_id,
                "institution_id": page.institution_id,
                "region_code": page.region_code,
                "source": appeal.source.model_dump(exclude_none=True),
                "author_id": appeal.author_id,
                "text": appeal.text,
                "received_at": received_at.isoformat(),
                "vk_date": appeal.date,
                "status": "new",
                "kind": "appeal",
                "deleted": False,
                "history": [{"action": "created", "at": received_at.isoformat(), "text": appeal.text}],
                "event_id": event_id,
                "thread": appeal.thread,
                "thread_sk": thread_sk,
                "GSI1PK": f"REGION#{page.region_code}",
                "GSI1SK": sort_key,
                "GSI2PK": f"INST#{page.institution_id}",
                "GSI2SK": sort_key,
            }
        ),
    }
    thread_item = {"PK": f"THREAD#{appeal.thread}", "SK": thread_sk, "appeal_id": appeal.id, "root": appeal.root}
    codes = _commit(
        [
            _event_put(table, group_id=page.group_id, event_id=event_id, event_type=event_type),
            {"Put": {"TableName": table, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"TableName": table, "Item": serialize(thread_item)}},
        ]
    )
    return not codes


def _update_appeal(
    *, page: PageRef, appeal_id: str, event_id: str, event_type: str, update: dict[str, Any]
) -> list[str]:
    """Apply an update to an existing appeal in the same transaction as the event's dedupe item."""
    table = get_settings().appeals_table
    return _commit(
        [
            _event_put(table, group_id=page.group_id, event_id=event_id, event_type=event_type),
            {
                "Update": {
                    "TableName": table,
                    "Key": appeal_key(appeal_id),
                    "ConditionExpression": "attribute_exists(PK)",
                    **update,
                }
            },
        ]
    )


def _acknowledge(*, page: PageRef, event_id: str, event_type: str) -> None:
    """Remember an event that had no effect, so its retries are recognised as duplicates."""
    table = get_settings().appeals_table
    _commit([_event_put(table, group_id=page.group_id, event_id=event_id, event_type=event_type)])


def edit_appeal(*, page: PageRef, appeal: NewAppeal, event_id: str, event_type: str, edited_at: datetime) -> bool:
    """Replace the appeal's text, keeping every version in ``history``; an unseen comment becomes an appeal."""
    update = {
        "UpdateExpression": "SET #text = :text, history = list_append(if_not_exists(history, :empty), :entry)",
        "ExpressionAttributeNames": {"#text": "text"},
        "ExpressionAttributeValues": {
            ":text": {"S": appeal.text},
            ":empty": {"L": []},
            ":entry": {"L": [_history_entry("edited", edited_at, text=appeal.text)]},
        },
    }
    codes = _update_appeal(page=page, appeal_id=appeal.id, event_id=event_id, event_type=event_type, update=update)
    if _failed(codes, 1) and not _failed(codes, 0):
        return record_appeal(page=page, appeal=appeal, event_id=event_id, event_type=event_type)
    return not codes


def delete_appeal(
    *, page: PageRef, appeal_id: str, deleter_id: int | None, event_id: str, event_type: str, deleted_at: datetime
) -> bool:
    """Mark the appeal deleted, by its author or by the community (an admin or the community itself)."""
    stored = get_appeal_item(appeal_id)
    if stored is None:
        _acknowledge(page=page, event_id=event_id, event_type=event_type)
        return False
    by: DeletedBy = "author" if deleter_id is not None and deleter_id == stored["author_id"] else "community"
    update = {
        "UpdateExpression": "SET deleted = :true, deleted_by = :by, "
        "history = list_append(if_not_exists(history, :empty), :entry)",
        "ExpressionAttributeValues": {
            ":true": {"BOOL": True},
            ":by": {"S": by},
            ":empty": {"L": []},
            ":entry": {"L": [_history_entry("deleted", deleted_at, by=by)]},
        },
    }
    return not _update_appeal(page=page, appeal_id=appeal_id, event_id=event_id, event_type=event_type, update=update)


def restore_appeal(*, page: PageRef, appeal: NewAppeal, event_id: str, event_type: str, restored_at: datetime) -> bool:
    """Undo a deletion; a restored comment never seen before becomes an appeal."""
    update = {
        "UpdateExpression": "SET deleted = :false, history = list_append(if_not_exists(history, :empty), :entry) "
        "REMOVE deleted_by",
        "ExpressionAttributeValues": {
            ":false": {"BOOL": False},
            ":empty": {"L": []},
            ":entry": {"L": [_history_entry("restored", restored_at)]},
        },
    }
    codes = _update_appeal(page=page, appeal_id=appeal.id, event_id=event_id, event_type=event_type, update=update)
    if _failed(codes, 1) and not _failed(codes, 0):
        return record_appeal(page=page, appeal=appeal, event_id=event_id, event_type=event_type)
    return not codes


def _unanswered_in_thread(thread: str, root: int | None) -> dict[str, Any] | None:
    """The earliest unanswered appeal of a thread (of one comment thread inside it when ``root`` is given)."""
    query: dict[str, Any] = {
        "TableName": get_settings().appeals_table,
        "KeyConditionExpression": "PK = :pk",
        "FilterExpression": "attribute_not_exists(answered_at)",
        "ExpressionAttributeValues": {":pk": {"S": f"THREAD#{thread}"}},
    }
    if root is not None:
        query["FilterExpression"] += " AND root = :root"
        query["ExpressionAttributeValues"][":root"] = serialize_value(root)
    for result in dynamodb().get_paginator("query").paginate(**query):
        for item in result.get("Items", []):
            return deserialize(item)
    return None


def _answer_target(reply: CommunityReply) -> tuple[str, str] | None:
    """(appeal id, thread sort key) the reply answers: the replied-to appeal, else the earliest unanswered one."""
    if reply.reply_to is not None:
        replied = get_appeal_item(stable_id(reply.reply_to))
        if replied is not None:
            return None if replied.get("first_response_at") else (replied["id"], replied["thread_sk"])
    found = _unanswered_in_thread(reply.thread, reply.root)
    return (found["appeal_id"], found["SK"]) if found else None


def answer_appeal(*, page: PageRef, reply: CommunityReply, event_id: str, event_type: str) -> str | None:
    """Mark the appeal a community reply answers (first response only); the appeal id, or None if none."""
    table = get_settings().appeals_table
    items: list[dict[str, Any]] = [
        _event_put(table, group_id=page.group_id, event_id=event_id, event_type=event_type),
        {
            "Put": {
                "TableName": table,
                "Item": serialize({"PK": f"REPLY#{stable_id(reply.natural_key)}", "SK": "REPLY", "entity": "reply"}),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
    ]
    target = _answer_target(reply)
    if target is not None:
        appeal_id, thread_sk = target
        answered_at = reply.reply.sent_at.astimezone(get_region(page.region_code).zone)
        items += [
            {
                "Update": {
                    "TableName": table,
                    "Key": appeal_key(appeal_id),
                    "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(first_response_at)",
                    "UpdateExpression": "SET first_response_at = :at, #status = :answered, reply = :reply, "
                    "response_elapsed_minutes = :elapsed",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {
                        ":at": {"S": answered_at.isoformat()},
                        ":answered": {"S": "answered"},
                        ":reply": serialize_value(reply.reply.model_dump(mode="json", exclude_none=True)),
                        ":elapsed": serialize_value(_elapsed_minutes(thread_sk, reply.reply.sent_at)),
                    },
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": f"THREAD#{reply.thread}"}, "SK": {"S": thread_sk}},
                    "UpdateExpression": "SET answered_at = :at",
                    "ExpressionAttributeValues": {":at": {"S": answered_at.isoformat()}},
                }
            },
        ]
    codes = _commit(items)
    if _failed(codes, 2) and not (_failed(codes, 0) or _failed(codes, 1)):
        raise AnswerConflictError("the appeal was answered concurrently")
    return target[0] if target is not None and not codes else None


def _elapsed_minutes(thread_sk: str, answered: datetime) -> int:
    asked = int(thread_sk.partition("#")[0])
    return max(0, int(answered.timestamp()) - asked) // 60


def activity(*, page: PageRef, kind: ActivityKind, activity_id: str, occurred_at: datetime) -> ActivityRecorded:
    """An activity for the metrics service (no personal data)."""
    return ActivityRecorded(
        activity_id=activity_id,
        page_id=page.page_id,
        group_id=page.group_id,
        institution_id=page.institution_id,
        region_code=page.region_code,
        kind=kind,
        occurred_at=occurred_at,
    )


# ---------------------------------------------------------------- reads


def get_appeal_item(appeal_id: str) -> dict[str, Any] | None:
    """The stored appeal as a plain dict (``None`` if absent)."""
    item = dynamodb().get_item(TableName=get_settings().appeals_table, Key=appeal_key(appeal_id)).get("Item")
    return deserialize(item) if item else None


def get_appeal(*, principal: Principal, appeal_id: str) -> Appeal:
    """One appeal inside the caller's scope (404 otherwise)."""
    stored = get_appeal_item(appeal_id)
    if stored is None or stored.get("entity") != "appeal":
        raise NotFoundError("appeal not found", field="appeal_id")
    principal.ensure_can_read(region_code=stored["region_code"], institution_id=stored["institution_id"])
    return Appeal.model_validate(stored)


def _list_partition(principal: Principal, filters: AppealFilters) -> tuple[str, str, list[str], dict[str, Any]]:
    """(index, partition key, filter clauses, values) of a list query inside the caller's scope."""
    region = principal.readable_region(filters.region)
    institution = filters.institution_id
    if principal.role is Role.INSTITUTION_ADMIN:
        if institution not in (None, principal.institution):
            raise NotFoundError(f"institution {institution} is outside your scope", field="institution_id")
        institution = principal.institution
    clauses: list[str] = []
    values: dict[str, Any] = {}
    if filters.page_id is not None:
        page = pages.read_page(filters.page_id)
        if page is None or not principal.can_read(region_code=page.region_code, institution_id=page.institution_id):
            raise NotFoundError(f"page {filters.page_id} not found", field="page_id")
        if institution not in (None, page.institution_id):
            raise NotFoundError(f"page {filters.page_id} is not a page of institution {institution}", field="page_id")
        institution = page.institution_id
        clauses.append("page_id = :page_id")
        values[":page_id"] = {"S": filters.page_id}
    if institution is not None:
        if region is not None:
            clauses.append("region_code = :region")
            values[":region"] = {"S": region}
        return "GSI2", f"INST#{institution}", clauses, values
    if region is None:
        raise InvalidInputError("a federal-wide list needs region, institution_id or page_id", field="region")
    return "GSI1", f"REGION#{region}", clauses, values


def list_appeals(*, principal: Principal, filters: AppealFilters, limit: int, cursor: str | None) -> AppealPage:
    """Appeals inside the caller's scope, newest first, through GSI queries only."""
    index, partition, clauses, values = _list_partition(principal, filters)
    low = _iso(filters.received_from) if filters.received_from else "0"
    high = _iso(filters.received_to) + "~" if filters.received_to else "9"
    values.update({":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}})
    names: dict[str, str] = {}
    for field in ("status", "kind", "rubric"):
        value = getattr(filters, field)
        if value is not None:
            clauses.append(f"#{field} = :{field}")
            names[f"#{field}"] = field
            values[f":{field}"] = {"S": value}
    if filters.overdue is not None:
        overdue = "(attribute_exists(due_epoch) AND due_epoch < :now AND attribute_not_exists(first_response_at))"
        clauses.append(overdue if filters.overdue else f"NOT {overdue}")
        values[":now"] = {"N": str(int(time.time()))}
    query: dict[str, Any] = {
        "TableName": get_settings().appeals_table,
        "IndexName": index,
        "KeyConditionExpression": f"{index}PK = :pk AND {index}SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
    }
    if clauses:
        query["FilterExpression"] = " AND ".join(clauses)
    if names:
        query["ExpressionAttributeNames"] = names
    items: list[Appeal] = []
    start = decode_cursor(cursor)
    if start is not None and start.get(f"{index}PK") != {"S": partition}:
        raise InvalidInputError("cursor belongs to another query", field="cursor")
    for _ in range(MAX_LIST_QUERIES):
        if start:
            query["ExclusiveStartKey"] = start
        result = dynamodb().query(**query, Limit=limit - len(items))
        items += [Appeal.model_validate(deserialize(item)) for item in result.get("Items", [])]
        start = result.get("LastEvaluatedKey")
        if not start or len(items) >= limit:
            break
    return AppealPage(items=items, next_cursor=encode_cursor(start))
