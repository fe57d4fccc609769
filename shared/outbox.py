"""The transactional outbox: events committed in the same transaction as their change, published right after it.

A service puts an outbox item holding a change's events (``transaction_put``) into the transaction that writes
the change. After the commit ``dispatch`` publishes them and deletes the item; if publishing fails the item stays,
and the service's scheduled relay (``relay``, every minute) publishes it once it is older than
``RELAY_AFTER_SECONDS`` and deletes it. So a committed change's events are published at least once, never lost;
consumers dedupe (event ids, revisions, ``change_id``), so a repeated delivery is harmless.

Layout, in the service's own table (its repository passes the table name and client): ``PK`` ``OUTBOX#{0..15}``,
``SK`` ``{created_at}#{uuid}`` (UTC, ISO 8601 to the microsecond), ``entity`` ``outbox``, ``events`` the events as
JSON, at most ``EVENTS_PER_ITEM`` of them. The shard comes from the uuid, so concurrent writers spread over 16
partitions, and the relay reads each one oldest first up to a cutoff time. Nothing here is personal data in logs:
only counts, outbox ids and errors are logged.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from shared.dynamo import chunked, deserialize, serialize
from shared.errors import UnavailableError
from shared.events import Event, parse_event

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from mypy_boto3_dynamodb import DynamoDBClient

    from shared.workers import ScheduledRun

SHARDS = 16
EVENTS_PER_ITEM = 200  # ~1 KB an event; an item holds at most 400 KB
RELAY_AFTER_SECONDS = 30  # younger items belong to the change that wrote them (its dispatch may still be running)
RELAY_BUDGET_SECONDS = 40  # a relay function's timeout is 60 s; the next run continues
BATCH_WRITE_REQUESTS = 25
WRITE_ATTEMPTS = 8

Publish = Callable[[Sequence[Event]], None]
"""Sends events to the service's queues; raises if any was not accepted."""


class OutboxRecord(TypedDict):
    """Events of a committed change not yet known to be published; ``id`` (the sort key) starts with its time."""

    id: str
    events: list[Event]


class OutboxStore(Protocol):
    """What ``dispatch`` and ``relay`` need of a repository (it calls ``records_before`` and ``delete_records``)."""

    def outbox_before(self, created_before: str) -> Iterable[OutboxRecord]:
        """Outbox records created before an ISO 8601 UTC time."""
        ...

    def delete_outbox(self, records: Iterable[OutboxRecord]) -> None:
        """Forget outbox records whose events are published."""
        ...


# ---------------------------------------------------------------- layout


def now_iso() -> str:
    """The current UTC time as outbox ids and relay cutoffs spell it."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_record(events: Iterable[Event]) -> OutboxRecord:
    """An outbox record of events (at most ``EVENTS_PER_ITEM``: see ``new_records``), stamped now."""
    return OutboxRecord(id=f"{now_iso()}#{uuid.uuid4().hex}", events=list(events))


def new_records(events: Iterable[Event]) -> list[OutboxRecord]:
    """Outbox records of any number of events, ``EVENTS_PER_ITEM`` to a record."""
    return [new_record(chunk) for chunk in chunked(events, EVENTS_PER_ITEM)]


def record_key(record_id: str) -> dict[str, str]:
    """The primary key of an outbox record (its shard from the id's last hex digits)."""
    return {"PK": f"OUTBOX#{int(record_id[-4:], 16) % SHARDS}", "SK": record_id}


def stored_item(record: OutboxRecord) -> dict[str, Any]:
    """An outbox record as a plain item (``shared.dynamo.serialize`` it for the low-level client)."""
    events = [event.model_dump_json() for event in record["events"]]
    return {**record_key(record["id"]), "entity": "outbox", "events": events}


def transaction_put(table: str, record: OutboxRecord) -> dict[str, Any]:
    """The ``TransactWriteItems`` entry that writes an outbox record with the change it belongs to."""
    return {"Put": {"TableName": table, "Item": serialize(stored_item(record))}}


def record_of(stored: Mapping[str, Any]) -> OutboxRecord:
    """The outbox record of a stored (deserialized) item."""
    return OutboxRecord(id=str(stored["SK"]), events=[parse_event(raw) for raw in stored.get("events", [])])


def records_before(client: DynamoDBClient, table: str, created_before: str) -> Iterator[OutboxRecord]:
    """Outbox records of a table created before an ISO 8601 UTC time, shard by shard, oldest first in each."""
    for shard in range(SHARDS):
        request: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "PK = :pk AND SK < :before",
            "ExpressionAttributeValues": {":pk": {"S": f"OUTBOX#{shard}"}, ":before": {"S": created_before}},
            "ConsistentRead": True,
        }
        while True:
            response = client.query(**request)
            yield from (record_of(deserialize(raw)) for raw in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def delete_records(client: DynamoDBClient, table: str, records: Iterable[OutboxRecord]) -> None:
    """Delete outbox records (BatchWriteItem, 25 a request, unprocessed ones retried with backoff)."""
    for chunk in chunked(records, BATCH_WRITE_REQUESTS):
        pending: dict[str, Any] = {table: [{"DeleteRequest": {"Key": serialize(record_key(r["id"]))}} for r in chunk]}
        for attempt in range(WRITE_ATTEMPTS):
            pending = dict(client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})
            if not pending:
                break
            time.sleep(0.05 * 2**attempt)
        else:
            raise UnavailableError("the table did not accept the outbox cleanup")


# ---------------------------------------------------------------- after the commit, and the relay


def dispatch(*, store: OutboxStore, records: Sequence[OutboxRecord], publish: Publish, logger: Logger) -> bool:
    """Publish the events of freshly committed outbox records and delete them.

    Never raises: the change is committed, so a failure only leaves the records to the relay (``False`` when the
    events were not published).
    """
    events = [event for record in records for event in record["events"]]
    if not events:
        return True
    try:
        publish(events)
    except Exception as error:  # the relay publishes these later
        logger.warning("publish failed, left to the outbox relay", extra={"events": len(events), "error": str(error)})
        return False
    try:
        store.delete_outbox(records)
    except Exception as error:  # already published: the relay sends them again, consumers dedupe
        logger.warning("outbox cleanup failed, left to the relay", extra={"error": str(error)})
    return True


def relay(
    *,
    store: OutboxStore,
    publish: Publish,
    logger: Logger,
    after_seconds: float = RELAY_AFTER_SECONDS,
    budget_seconds: float = RELAY_BUDGET_SECONDS,
    run: ScheduledRun | None = None,
) -> dict[str, int]:
    """Publish outbox records older than ``after_seconds`` and delete them, for at most ``budget_seconds``.

    A record whose publish fails stays for the next run; the counts of both are returned.
    """
    deadline = time.monotonic() + budget_seconds
    cutoff = (datetime.now(UTC) - timedelta(seconds=after_seconds)).isoformat(timespec="microseconds")
    published = failed = 0
    for record in store.outbox_before(cutoff):
        if time.monotonic() > deadline:
            break  # the next scheduled run continues
        try:
            publish(record["events"])
        except Exception as error:
            failed += 1
            logger.warning("relay publish failed", extra={"outbox_id": record["id"], "error": str(error)})
            continue
        store.delete_outbox([record])
        published += 1
    if published or failed:
        execution_id = run.execution_id if run else None
        logger.info("outbox relayed", extra={"published": published, "failed": failed, "execution_id": execution_id})
    return {"published": published, "failed": failed}
