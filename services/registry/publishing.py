"""Reliable event publishing: the transactional outbox and its relay.

A change and an outbox record holding its events are committed in one transaction. Right after the commit the
events are published to every registry event queue and the outbox record is deleted. If publishing fails, the
record stays (as do the events of a large import, see ``importing``) and the scheduled relay
(``services.registry.outbox``) publishes it once it is older than ``RELAY_AFTER_SECONDS``. A repeated delivery
is harmless: consumers keep the highest ``revision`` per aggregate.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shared.config import get_settings
from shared.logs import get_logger
from shared.publisher import publish

if TYPE_CHECKING:
    from services.registry.records import OutboxRecord, Unit
    from services.registry.repository import RegistryRepository
    from shared.workers import ScheduledRun

RELAY_AFTER_SECONDS = 30
RELAY_BUDGET_SECONDS = 40  # the function's timeout is 60 s
logger = get_logger("registry")


def commit_and_publish(*, repository: RegistryRepository, units: Sequence[Unit]) -> list[Unit]:
    """Commit units and publish their events; return the units whose conditions failed (nothing of them written)."""
    result = repository.commit(units)
    dispatch(repository=repository, outbox=result.outbox)
    return result.failed


def dispatch(*, repository: RegistryRepository, outbox: Sequence[OutboxRecord]) -> bool:
    """Publish the events of freshly committed outbox records and delete them; ``False`` leaves them to the relay."""
    events = [event for record in outbox for event in record["events"]]
    if not events:
        return True
    try:
        publish(events, queue_urls=get_settings().registry_event_queue_urls)
    except Exception as error:  # the change is committed: the relay publishes these later
        logger.warning("publish failed, left to the outbox relay", extra={"events": len(events), "error": str(error)})
        return False
    try:
        repository.delete_outbox(outbox)
    except Exception as error:  # already published: the relay re-sends them, consumers ignore stale revisions
        logger.warning("outbox cleanup failed, left to the relay", extra={"error": str(error)})
    return True


def relay(*, repository: RegistryRepository, run: ScheduledRun | None = None) -> dict[str, int]:
    """Publish outbox records older than ``RELAY_AFTER_SECONDS`` and delete them."""
    deadline = time.monotonic() + RELAY_BUDGET_SECONDS
    cutoff = (datetime.now(UTC) - timedelta(seconds=RELAY_AFTER_SECONDS)).isoformat(timespec="microseconds")
    published = failed = 0
    queue_urls = get_settings().registry_event_queue_urls
    for record in repository.outbox_before(cutoff):
        if time.monotonic() > deadline:
            break  # the next scheduled run continues
        try:
            publish(record["events"], queue_urls=queue_urls)
        except Exception as error:
            failed += 1
            logger.warning("relay publish failed", extra={"outbox_id": record["id"], "error": str(error)})
            continue
        repository.delete_outbox([record])
        published += 1
    if published or failed:
        execution_id = run.execution_id if run else None
        logger.info("outbox relayed", extra={"published": published, "failed": failed, "execution_id": execution_id})
    return {"published": published, "failed": failed}
