"""Reliable event publishing: the transactional outbox and its relay.

A change and an outbox item holding its events are committed in one transaction. Right after the commit the
events are published to every registry event queue and the outbox item is deleted. If publishing fails, the item
stays (as do the events of a large import, see ``importing``) and the scheduled relay
(``services.registry.outbox``) publishes it once it is older than ``RELAY_AFTER_SECONDS``. A repeated delivery
is harmless: consumers keep the highest ``revision`` per aggregate.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from services.registry import repository
from services.registry.repository import OUTBOX_SHARDS, OutboxEntry
from shared.config import get_settings
from shared.events import Event, parse_event
from shared.logs import get_logger
from shared.publisher import publish

RELAY_AFTER_SECONDS = 30
RELAY_BUDGET_SECONDS = 40  # the function's timeout is 60 s
logger = get_logger("registry")


def dispatch(entries: Sequence[OutboxEntry]) -> bool:
    """Publish the events of freshly committed outbox entries and delete them; ``False`` leaves them to the relay."""
    events = [event for entry in entries for event in entry.events]
    if not events:
        return True
    try:
        publish(events, queue_urls=get_settings().registry_event_queue_urls)
    except Exception as error:  # the change is committed: the relay publishes these later
        logger.warning("publish failed, left to the outbox relay", extra={"events": len(events), "error": str(error)})
        return False
    try:
        repository.delete_items(entry.key for entry in entries)
    except Exception as error:  # already published: the relay re-sends them, consumers ignore stale revisions
        logger.warning("outbox cleanup failed, left to the relay", extra={"error": str(error)})
    return True


def relay(run: Any = None, *, older_than_seconds: float | None = None) -> dict[str, int]:
    """Publish outbox items older than ``older_than_seconds`` (default ``RELAY_AFTER_SECONDS``) and delete them."""
    age = RELAY_AFTER_SECONDS if older_than_seconds is None else older_than_seconds
    deadline = time.monotonic() + RELAY_BUDGET_SECONDS
    cutoff = (datetime.now(UTC) - timedelta(seconds=age)).isoformat(timespec="microseconds")
    published = failed = 0
    queue_urls = get_settings().registry_event_queue_urls
    for shard in range(OUTBOX_SHARDS):
        for item in repository.query_all(index=None, partition=f"OUTBOX#{shard}", sort_before=cutoff):
            if time.monotonic() > deadline:
                break  # the next scheduled run continues
            events: list[Event] = [parse_event(raw) for raw in item.get("events", [])]
            try:
                publish(events, queue_urls=queue_urls)
            except Exception as error:
                failed += 1
                logger.warning("relay publish failed", extra={"shard": shard, "error": str(error)})
                continue
            repository.delete_items([{"PK": item["PK"], "SK": item["SK"]}])
            published += 1
    if published or failed:
        logger.info(
            "outbox relayed",
            extra={"published": published, "failed": failed, "execution_id": getattr(run, "execution_id", None)},
        )
    return {"published": published, "failed": failed}
