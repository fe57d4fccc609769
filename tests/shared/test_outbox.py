"""The shared transactional outbox against DynamoDB on the moto server: layout, commit, dispatch and relay."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared import outbox
from shared.aws import dynamodb
from shared.config import get_settings
from shared.dynamo import serialize
from shared.errors import UnavailableError
from shared.events import ActivityRecorded, Event, make_event
from shared.logs import RedactingFormatter, get_logger
from shared.outbox import OutboxRecord
from shared.transactions import transact_write

logger = get_logger("outbox-test")


class Store:
    """A repository's outbox methods over the metrics table (any table of the template will do)."""

    def __init__(self) -> None:
        self.table = get_settings().metrics_table

    def outbox_before(self, created_before: str) -> Iterator[OutboxRecord]:
        return outbox.records_before(dynamodb(), self.table, created_before)

    def delete_outbox(self, records: Iterable[OutboxRecord]) -> None:
        outbox.delete_records(dynamodb(), self.table, records)

    def pending(self) -> list[OutboxRecord]:
        return list(self.outbox_before(outbox.now_iso()))

    def commit(self, record: OutboxRecord) -> None:
        """Write the record in a transaction with a change, as a repository does."""
        change = {"Put": {"TableName": self.table, "Item": serialize({"PK": "CHANGE", "SK": record["id"]})}}
        transact_write(dynamodb(), [change, outbox.transaction_put(self.table, record)])


class Publisher:
    """Records what it was asked to publish; fails the first ``failures`` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.published: list[Event] = []

    def __call__(self, events: Sequence[Event]) -> None:
        if self.failures:
            self.failures -= 1
            raise UnavailableError("queue down")
        self.published.extend(events)


def activity(number: int) -> Event:
    return make_event(
        "appeals",
        ActivityRecorded(
            activity_id=f"a{number}",
            page_id="p",
            group_id=1,
            institution_id="i",
            region_code="54",
            kind="post",
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        ),
    )


@pytest.fixture
def store(aws: Any) -> Store:
    del aws
    return Store()


def test_events_are_chunked_per_item_and_records_spread_over_the_shards() -> None:
    records = outbox.new_records(activity(n) for n in range(2 * outbox.EVENTS_PER_ITEM + 1))
    assert [len(record["events"]) for record in records] == [outbox.EVENTS_PER_ITEM, outbox.EVENTS_PER_ITEM, 1]
    assert outbox.new_records([]) == []
    keys = [outbox.record_key(outbox.new_record([])["id"]) for _ in range(200)]
    assert {key["PK"] for key in keys} <= {f"OUTBOX#{shard}" for shard in range(outbox.SHARDS)}
    assert len({key["PK"] for key in keys}) > 1, "concurrent changes spread over the shards"
    assert all(key["SK"] < outbox.now_iso() for key in keys), "a record's sort key starts with its time"


def test_a_committed_record_is_read_back_before_a_cutoff_and_not_after_it(store: Store) -> None:
    before = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="microseconds")
    record = outbox.new_record([activity(1), activity(2)])
    store.commit(record)
    assert list(store.outbox_before(before)) == [], "younger than the cutoff"
    [stored] = store.pending()
    assert stored["id"] == record["id"]
    assert [event.event_id for event in stored["events"]] == [event.event_id for event in record["events"]]
    assert stored["events"] == record["events"]


def test_dispatch_publishes_then_deletes_and_a_failure_leaves_the_record(store: Store) -> None:
    record = outbox.new_record([activity(1)])
    store.commit(record)
    failing = Publisher(failures=1)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(RedactingFormatter())
    logging.getLogger("outbox-test").addHandler(handler)
    try:
        assert outbox.dispatch(store=store, records=[record], publish=failing, logger=logger) is False
    finally:
        logging.getLogger("outbox-test").removeHandler(handler)
    assert [pending["id"] for pending in store.pending()] == [record["id"]], "left to the relay"
    [line] = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert (line["message"], line["events"], line["error"]) == (
        "publish failed, left to the outbox relay",
        1,
        "queue down",
    )
    assert record["events"][0].event_id not in lines.getvalue(), "counts are logged, never the events"

    working = Publisher()
    assert outbox.dispatch(store=store, records=[record], publish=working, logger=logger) is True
    assert working.published == record["events"] and store.pending() == []
    assert outbox.dispatch(store=store, records=[outbox.new_record([])], publish=failing, logger=logger) is True


def test_the_relay_publishes_old_records_once_and_retries_failed_ones(store: Store) -> None:
    records = [outbox.new_record([activity(n)]) for n in range(3)]
    for record in records:
        store.commit(record)
    publisher = Publisher(failures=1)
    assert outbox.relay(store=store, publish=publisher, logger=logger) == {"published": 0, "failed": 0}, "too young"
    assert outbox.relay(store=store, publish=publisher, logger=logger, budget_seconds=-1, after_seconds=0) == {
        "published": 0,
        "failed": 0,
    }, "no time left: the next run continues"
    assert outbox.relay(store=store, publish=publisher, logger=logger, after_seconds=0) == {"published": 2, "failed": 1}
    assert outbox.relay(store=store, publish=publisher, logger=logger, after_seconds=0) == {"published": 1, "failed": 0}
    assert outbox.relay(store=store, publish=publisher, logger=logger, after_seconds=0) == {"published": 0, "failed": 0}
    assert sorted(event.event_id for event in publisher.published) == sorted(
        record["events"][0].event_id for record in records
    ), "each event exactly once"
    assert store.pending() == []


def test_records_are_deleted_in_batches_of_25(store: Store) -> None:
    records = [outbox.new_record([activity(n)]) for n in range(30)]
    for record in records:
        dynamodb().put_item(TableName=store.table, Item=serialize(outbox.stored_item(record)))
    assert len(store.pending()) == 30
    store.delete_outbox(records)
    assert store.pending() == []
