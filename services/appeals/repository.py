"""DynamoDB layout of the appeals service (one table) and the only module that knows its keys.

Items (``PK`` / ``SK``):

- ``APPEAL#{id}`` / ``APPEAL`` - the appeal; ``id`` is derived from the comment's or message's natural key, so the
  conditional put of the appeal *is* the natural-key dedupe. GSI1 ``REGION#{code}``, GSI2 ``INST#{id}``, both
  sorted by ``{received_at UTC}#{id}``.
- ``EVENT#{group_id}#{event_id}`` / ``EVENT`` - VK event seen, put in every effect's transaction (TTL 72 h), or
  alone with its ``outcome`` when it had no effect: ``ignored``, or ``rejected`` with a ``reason`` (TTL 14 days,
  as long as a dead letter would have been kept).
- ``THREAD#{thread}`` / ``{date}#{id}`` - appeals of a post/topic/photo/video/item or dialog in VK order, so a
  community reply can find the earliest unanswered one.
- ``REPLY#{id}`` / ``REPLY`` - a community reply already applied (its natural-key dedupe).
- ``PAGE#{page_id}`` / ``PAGE`` and ``GROUP#{group_id}`` / ``PAGE`` - the projection of registry pages, by id and
  by VK community (newest ``revision`` wins).
- ``INSTITUTION#{id}`` / ``INSTITUTION`` - the projection of registry institutions: their region, for scoping lists
  (newest ``revision`` wins).

Only Get/Put/Update/Delete/Query and ``TransactWriteItems`` (through ``shared.transactions``); no Scan.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict, cast

from shared.dynamo import decode_cursor, deserialize, encode_cursor, is_conditional_failure, serialize, serialize_value
from shared.transactions import ConditionFailed, transact_write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from services.appeals.models import Actor, AppealKind, AppealReply, AppealStatus, DeletedBy, HistoryAction

EVENT_TTL_SECONDS = 72 * 3600
REJECTED_EVENT_TTL_SECONDS = 14 * 86400
MAX_LIST_QUERIES = 5
PAGE_SK = "PAGE"
_APPEAL_STORAGE_ATTRIBUTES = frozenset({"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "entity", "thread_sk"})
_NEWER_REVISION = "attribute_not_exists(PK) OR revision <= :revision"
_OWNED_BY_PAGE = "attribute_not_exists(PK) OR page_id = :page_id"
_APPEND_HISTORY = "history = list_append(if_not_exists(history, :empty), :entry)"

ChangeOutcome = Literal["applied", "duplicate", "no_appeal"]
AnswerOutcome = Literal["applied", "duplicate", "answered_concurrently"]
SeenOutcome = Literal["applied", "ignored", "rejected"]


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


@dataclass(frozen=True, slots=True)
class SeenEvent:
    """A VK event whose dedupe marker is written in the same transaction as its effect."""

    group_id: int
    event_id: str
    type: str


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """An appeal's place in its VK thread (post, topic, photo, video, item or dialog)."""

    thread: str
    appeal_id: str
    date: int  # the appeal's VK timestamp: entries are in VK order


@dataclass(frozen=True, slots=True)
class Answer:
    """A community reply as the first response to an appeal."""

    target: ThreadEntry
    answered_at: datetime
    reply: AppealReply
    elapsed_minutes: int


class HistoryRecord(TypedDict):
    """One stored change of an appeal (``created``, ``edited``, ``deleted``, ``restored``, ``answered``)."""

    action: HistoryAction
    at: str
    text: NotRequired[str]
    by: NotRequired[Actor]
    old_status: NotRequired[AppealStatus]
    new_status: NotRequired[AppealStatus]


class AttachmentRecord(TypedDict):
    """A stored attachment: its VK type and the public ids and link of the attached object."""

    type: str
    owner_id: NotRequired[int]
    id: NotRequired[int]
    url: NotRequired[str]


class InstitutionRecord(TypedDict):
    """What the appeals service knows about a registry institution: the region its appeals belong to."""

    institution_id: str
    region_code: str
    revision: int


class SeenRecord(TypedDict):
    """A stored dedupe marker: what became of a VK event (``reason`` for a rejected one; never personal data)."""

    type: str
    outcome: SeenOutcome
    reason: NotRequired[str]


class AppealQuery(TypedDict):
    """One list of appeals: of an institution (else of a region) inside the caller's scope, narrowed by filters."""

    region_code: str
    institution_id: str | None
    page_id: str | None
    status: AppealStatus | None
    kind: AppealKind | None
    rubric: str | None
    overdue: bool | None
    received_from: datetime | None
    received_to: datetime | None


class AppealRecord(TypedDict):
    """A stored appeal: the fields of the API's ``Appeal`` plus its VK thread and event."""

    id: str
    page_id: str
    institution_id: str
    region_code: str
    source: dict[str, str | int]
    author_id: int
    text: str
    attachments: list[AttachmentRecord]
    received_at: str
    vk_date: int
    status: AppealStatus
    kind: AppealKind
    deleted: bool
    history: list[HistoryRecord]
    event_id: str
    thread: str
    deleted_by: NotRequired[DeletedBy]
    first_response_at: NotRequired[str]
    reply: NotRequired[dict[str, str | int]]
    response_elapsed_minutes: NotRequired[int]


@dataclass(frozen=True, slots=True)
class AppealRecords:
    """One page of stored appeals, newest first, and the cursor of the next one."""

    items: list[AppealRecord]
    next_cursor: str | None


def _appeal_key(appeal_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"APPEAL#{appeal_id}"}, "SK": {"S": "APPEAL"}}


def _thread_key(entry: ThreadEntry) -> dict[str, Any]:
    return {"PK": {"S": f"THREAD#{entry.thread}"}, "SK": {"S": _thread_sort_key(entry.date, entry.appeal_id)}}


def _thread_sort_key(date: int, appeal_id: str) -> str:
    return f"{date:012d}#{appeal_id}"


def _group_key(group_id: int) -> dict[str, Any]:
    return {"PK": {"S": f"GROUP#{group_id}"}, "SK": {"S": PAGE_SK}}


def _page_key(page_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"PAGE#{page_id}"}, "SK": {"S": PAGE_SK}}


def _institution_key(institution_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"INSTITUTION#{institution_id}"}, "SK": {"S": "INSTITUTION"}}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stored(moment: datetime) -> str:
    """An instant as stored: ISO 8601 to the second, in the zone the service gave it (the region's)."""
    return moment.isoformat(timespec="seconds")


def _received_sort_key(record: AppealRecord) -> str:
    return f"{_utc(datetime.fromtimestamp(record['vk_date'], tz=UTC))}#{record['id']}"


def _history_values(entry: HistoryRecord) -> dict[str, Any]:
    return {":empty": {"L": []}, ":entry": {"L": [serialize_value(entry)]}}


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


def _appeal_record(item: dict[str, Any]) -> AppealRecord:
    data = deserialize(item)
    return cast(AppealRecord, {key: value for key, value in data.items() if key not in _APPEAL_STORAGE_ATTRIBUTES})


class AppealsRepository:
    """Appeals, their VK threads, seen events and the page and institution projections in one DynamoDB table."""

    def __init__(self, *, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    # ------------------------------------------------------------ appeals: writes (one transaction per VK event)

    def _seen(self, event: SeenEvent, *, outcome: SeenOutcome = "applied", reason: str | None = None) -> dict[str, Any]:
        ttl = REJECTED_EVENT_TTL_SECONDS if outcome == "rejected" else EVENT_TTL_SECONDS
        item = {
            "PK": f"EVENT#{event.group_id}#{event.event_id}",
            "SK": "EVENT",
            "type": event.type,
            "outcome": outcome,
            "reason": reason,
            "expires_at": int(time.time()) + ttl,
        }
        return {
            "Put": {"TableName": self.table, "Item": serialize(item), "ConditionExpression": "attribute_not_exists(PK)"}
        }

    def record_appeal(self, *, appeal: AppealRecord, root: int | None, event: SeenEvent) -> bool:
        """Store a new appeal and its thread entry (``root``: its comment thread) once per event and natural key.

        True if stored; False if the event or the appeal was already there.
        """
        received = _received_sort_key(appeal)
        item = {
            **appeal,
            "entity": "appeal",
            "thread_sk": _thread_sort_key(appeal["vk_date"], appeal["id"]),
            "GSI1PK": f"REGION#{appeal['region_code']}",
            "GSI1SK": received,
            "GSI2PK": f"INST#{appeal['institution_id']}",
            "GSI2SK": received,
        }
        entry = ThreadEntry(thread=appeal["thread"], appeal_id=appeal["id"], date=appeal["vk_date"])
        thread_item = {**_thread_key(entry), **serialize({"appeal_id": appeal["id"], "root": root})}
        try:
            transact_write(
                self.client,
                [
                    self._seen(event),
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {**_appeal_key(appeal["id"]), **serialize(item)},
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {"Put": {"TableName": self.table, "Item": thread_item}},
                ],
            )
        except ConditionFailed:
            return False
        return True

    def edit_appeal(
        self,
        *,
        appeal_id: str,
        text: str,
        attachments: list[AttachmentRecord],
        edited_at: datetime,
        event: SeenEvent,
    ) -> ChangeOutcome:
        """Replace the appeal's text and attachments, keeping every text version in ``history``."""
        return self._change_appeal(
            appeal_id=appeal_id,
            event=event,
            entry={"action": "edited", "at": _stored(edited_at), "text": text},
            assignments="#text = :text, attachments = :attachments",
            values={":text": {"S": text}, ":attachments": serialize_value(attachments)},
            names={"#text": "text"},
        )

    def delete_appeal(self, *, appeal_id: str, by: DeletedBy, deleted_at: datetime, event: SeenEvent) -> ChangeOutcome:
        """Mark the appeal deleted by its author or by the community."""
        return self._change_appeal(
            appeal_id=appeal_id,
            event=event,
            entry={"action": "deleted", "at": _stored(deleted_at), "by": by},
            assignments="deleted = :true, deleted_by = :by",
            values={":true": {"BOOL": True}, ":by": {"S": by}},
        )

    def restore_appeal(self, *, appeal_id: str, restored_at: datetime, event: SeenEvent) -> ChangeOutcome:
        """Undo the appeal's deletion."""
        return self._change_appeal(
            appeal_id=appeal_id,
            event=event,
            entry={"action": "restored", "at": _stored(restored_at)},
            assignments="deleted = :false",
            values={":false": {"BOOL": False}},
            removals="deleted_by",
        )

    def _change_appeal(
        self,
        *,
        appeal_id: str,
        event: SeenEvent,
        entry: HistoryRecord,
        assignments: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        removals: str | None = None,
    ) -> ChangeOutcome:
        """Update a stored appeal and append ``entry`` to its history, with the event's dedupe marker."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": _appeal_key(appeal_id),
            "ConditionExpression": "attribute_exists(PK)",
            "UpdateExpression": f"SET {assignments}, {_APPEND_HISTORY}" + (f" REMOVE {removals}" if removals else ""),
            "ExpressionAttributeValues": {**values, **_history_values(entry)},
        }
        if names:
            update["ExpressionAttributeNames"] = names
        try:
            transact_write(self.client, [self._seen(event), {"Update": update}])
        except ConditionFailed as failure:
            return "no_appeal" if failure.failed(1) and not failure.failed(0) else "duplicate"
        return "applied"

    def acknowledge_event(self, event: SeenEvent) -> None:
        """Remember an event that had no effect, so its retries are recognised as duplicates."""
        self._put_seen(self._seen(event, outcome="ignored"))

    def reject_event(self, event: SeenEvent, *, reason: str) -> None:
        """Remember an event this service cannot use, with the reason (field names, never personal data)."""
        self._put_seen(self._seen(event, outcome="rejected", reason=reason))

    def _put_seen(self, marker: dict[str, Any]) -> None:
        try:
            self.client.put_item(**marker["Put"])
        except Exception as error:  # botocore's ClientError; a seen event is fine
            if not is_conditional_failure(error):
                raise

    def read_seen_event(self, *, group_id: int, event_id: str) -> SeenRecord | None:
        """What became of a VK event (``None`` if it was never seen or its marker expired)."""
        key = serialize({"PK": f"EVENT#{group_id}#{event_id}", "SK": "EVENT"})
        item = self.client.get_item(TableName=self.table, Key=key).get("Item")
        if item is None:
            return None
        data = deserialize(item)
        record: SeenRecord = {"type": data["type"], "outcome": data.get("outcome", "applied")}
        if "reason" in data:
            record["reason"] = data["reason"]
        return record

    def answer_appeal(self, *, reply_id: str, answer: Answer | None, event: SeenEvent) -> AnswerOutcome:
        """Store a community reply once, with its ``answer`` to an appeal (first response only) if it has one.

        The answered appeal's history records the status change (``new`` -> ``answered``, by the community).
        """
        items: list[dict[str, Any]] = [
            self._seen(event),
            {
                "Put": {
                    "TableName": self.table,
                    "Item": serialize({"PK": f"REPLY#{reply_id}", "SK": "REPLY", "entity": "reply"}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        if answer is not None:
            at = _stored(answer.answered_at)
            transition: HistoryRecord = {
                "action": "answered",
                "at": at,
                "by": "community",
                "old_status": "new",
                "new_status": "answered",
            }
            reply = answer.reply.model_dump(mode="json", exclude_none=True) | {"sent_at": at}
            items += [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _appeal_key(answer.target.appeal_id),
                        "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(first_response_at)",
                        "UpdateExpression": "SET first_response_at = :at, #status = :answered, reply = :reply, "
                        f"response_elapsed_minutes = :elapsed, {_APPEND_HISTORY}",
                        "ExpressionAttributeNames": {"#status": "status"},
                        "ExpressionAttributeValues": {
                            ":at": {"S": at},
                            ":answered": {"S": "answered"},
                            ":reply": serialize_value(reply),
                            ":elapsed": serialize_value(answer.elapsed_minutes),
                            **_history_values(transition),
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _thread_key(answer.target),
                        "UpdateExpression": "SET answered_at = :at",
                        "ExpressionAttributeValues": {":at": {"S": at}},
                    }
                },
            ]
        try:
            transact_write(self.client, items)
        except ConditionFailed as failure:
            concurrent = failure.failed(2) and not (failure.failed(0) or failure.failed(1))
            return "answered_concurrently" if concurrent else "duplicate"
        return "applied"

    # ------------------------------------------------------------ appeals: reads

    def get_appeal(self, appeal_id: str) -> AppealRecord | None:
        """The stored appeal (``None`` if absent)."""
        item = self.client.get_item(TableName=self.table, Key=_appeal_key(appeal_id)).get("Item")
        return _appeal_record(item) if item and item.get("entity") == {"S": "appeal"} else None

    def earliest_unanswered(self, *, thread: str, root: int | None) -> ThreadEntry | None:
        """The earliest unanswered appeal of a thread (of one comment thread inside it when ``root`` is given)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "FilterExpression": "attribute_not_exists(answered_at)",
            "ExpressionAttributeValues": {":pk": {"S": f"THREAD#{thread}"}},
        }
        if root is not None:
            query["FilterExpression"] += " AND root = :root"
            query["ExpressionAttributeValues"][":root"] = serialize_value(root)
        for result in self.client.get_paginator("query").paginate(**query):
            for item in result.get("Items", []):
                found = deserialize(item)
                date = int(found["SK"].partition("#")[0])
                return ThreadEntry(thread=thread, appeal_id=found["appeal_id"], date=date)
        return None

    def list_appeals(self, *, query: AppealQuery, limit: int, cursor: str | None) -> AppealRecords:
        """Appeals of the query's institution (else of its region), narrowed by the other filters.

        Newest first, through GSI queries only; the caller has already restricted the query to its scope. A cursor
        of another query (another index or partition, other attributes) is a 400 before DynamoDB sees it.
        """
        clauses: list[str] = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        if query["institution_id"] is not None:
            index, partition = "GSI2", f"INST#{query['institution_id']}"
            clauses.append("region_code = :region")
            values[":region"] = {"S": query["region_code"]}
        else:
            index, partition = "GSI1", f"REGION#{query['region_code']}"
        low = _utc(query["received_from"]) if query["received_from"] else "0"
        high = _utc(query["received_to"]) + "~" if query["received_to"] else "9"
        values.update({":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}})
        if query["page_id"] is not None:
            clauses.append("page_id = :page_id")
            values[":page_id"] = {"S": query["page_id"]}
        for field, value in (("status", query["status"]), ("kind", query["kind"]), ("rubric", query["rubric"])):
            if value is not None:
                clauses.append(f"#{field} = :{field}")
                names[f"#{field}"] = field
                values[f":{field}"] = {"S": value}
        if query["overdue"] is not None:
            overdue = "(attribute_exists(due_epoch) AND due_epoch < :now AND attribute_not_exists(first_response_at))"
            clauses.append(overdue if query["overdue"] else f"NOT {overdue}")
            values[":now"] = {"N": str(int(time.time()))}
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{index}PK = :pk AND {index}SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if clauses:
            request["FilterExpression"] = " AND ".join(clauses)
        if names:
            request["ExpressionAttributeNames"] = names
        start = decode_cursor(cursor, shape={"PK": None, "SK": None, f"{index}PK": partition, f"{index}SK": None})
        items: list[AppealRecord] = []
        for _ in range(MAX_LIST_QUERIES):
            if start:
                request["ExclusiveStartKey"] = start
            result = self.client.query(**request, Limit=limit - len(items))
            items += [_appeal_record(item) for item in result.get("Items", [])]
            start = result.get("LastEvaluatedKey")
            if not start or len(items) >= limit:
                break
        return AppealRecords(items=items, next_cursor=encode_cursor(start))

    # ------------------------------------------------------------ institution projection

    def project_institution(self, institution: InstitutionRecord) -> bool:
        """Store the institution's region unless this or a newer revision is stored; True if applied."""
        item = {
            **_institution_key(institution["institution_id"]),
            **serialize({**institution, "entity": "institution"}),
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR revision < :revision",
                ExpressionAttributeValues={":revision": serialize_value(institution["revision"])},
            )
        except Exception as error:  # botocore's ClientError; a stale revision is not an error
            if is_conditional_failure(error):
                return False
            raise
        return True

    def read_institution(self, institution_id: str) -> InstitutionRecord | None:
        """The projected institution (``None`` if the registry never announced it)."""
        item = self.client.get_item(TableName=self.table, Key=_institution_key(institution_id)).get("Item")
        if item is None:
            return None
        data = deserialize(item)
        return {"institution_id": institution_id, "region_code": data["region_code"], "revision": int(data["revision"])}

    # ------------------------------------------------------------ page projection

    def read_page_by_group(self, group_id: int) -> PageRef | None:
        """The projected page of a VK community (``None`` if unknown)."""
        item = self.client.get_item(TableName=self.table, Key=_group_key(group_id)).get("Item")
        return _page_ref(item) if item else None

    def read_page(self, page_id: str) -> PageRef | None:
        """The projected page by its registry id (``None`` if unknown)."""
        item = self.client.get_item(TableName=self.table, Key=_page_key(page_id)).get("Item")
        return _page_ref(item) if item else None

    def project_page(self, page: PageRef) -> bool:
        """Store the page's full state unless a newer revision is stored; True if applied.

        The by-page item carries the revision check; the by-group item follows it in the same transaction, and a
        group id the page no longer has is released unless another page took it meanwhile.
        """
        previous = self.read_page(page.page_id)
        state = serialize({**asdict(page), "entity": "page"})
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {**_page_key(page.page_id), **state},
                    "ConditionExpression": _NEWER_REVISION,
                    "ExpressionAttributeValues": {":revision": serialize_value(page.revision)},
                }
            },
            {"Put": {"TableName": self.table, "Item": {**_group_key(page.group_id), **state}}},
        ]
        if previous is not None and previous.group_id != page.group_id:
            items.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": _group_key(previous.group_id),
                        "ConditionExpression": _OWNED_BY_PAGE,
                        "ExpressionAttributeValues": {":page_id": {"S": page.page_id}},
                    }
                }
            )
        return self._write_projection(items)

    def archive_page(
        self, *, page_id: str, institution_id: str, region_code: str, group_id: int | None, revision: int
    ) -> bool:
        """Mark the page and its group (``None``: the group it has) archived unless a newer revision is stored."""
        if group_id is None:
            previous = self.read_page(page_id)
            if previous is None:
                return False
            group_id = previous.group_id
        archive = {
            "UpdateExpression": "SET #status = :archived, revision = :revision, page_id = :page_id, "
            "institution_id = :institution_id, region_code = :region_code, group_id = :group_id, entity = :entity",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":archived": {"S": "archived"},
                ":revision": serialize_value(revision),
                ":page_id": {"S": page_id},
                ":institution_id": {"S": institution_id},
                ":region_code": {"S": region_code},
                ":group_id": serialize_value(group_id),
                ":entity": {"S": "page"},
            },
        }
        return self._write_projection(
            [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _page_key(page_id),
                        "ConditionExpression": _NEWER_REVISION,
                        **archive,
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _group_key(group_id),
                        "ConditionExpression": _OWNED_BY_PAGE,
                        **archive,
                    }
                },
            ]
        )

    def _write_projection(self, items: list[dict[str, Any]]) -> bool:
        """Write a projection change (item 0: the by-page item); False when it is stale.

        A by-group item whose condition failed belongs to another page now: it is left alone and the rest retried.
        """
        try:
            transact_write(self.client, items)
        except ConditionFailed as failure:
            if failure.failed(0) or not failure.failed_positions:
                return False
            return self._write_projection([item for index, item in enumerate(items) if not failure.failed(index)])
        return True
