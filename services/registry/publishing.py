"""Reliable event publishing: the registry's use of the transactional outbox (``shared.outbox``).

A change and an outbox record holding its events are committed in one transaction. Right after the commit the
events are published to every registry event queue and the outbox record is deleted. If publishing fails, the
record stays (as do the events of a large import, see ``importing``) and the scheduled relay
(``services.registry.outbox``) publishes it once it is older than ``RELAY_AFTER_SECONDS``. A repeated delivery
is harmless: consumers keep the highest ``revision`` per aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from shared import outbox as shared_outbox
from shared.config import get_settings
from shared.logs import get_logger
from shared.publisher import publish

if TYPE_CHECKING:
    from services.registry.records import Unit
    from services.registry.repository import RegistryRepository
    from shared.events import Event
    from shared.outbox import OutboxRecord
    from shared.workers import ScheduledRun

RELAY_AFTER_SECONDS = shared_outbox.RELAY_AFTER_SECONDS
logger = get_logger("registry")


def publish_events(events: Sequence[Event]) -> None:
    """Send events to every registry event queue (the appeals and metrics services' queues)."""
    publish(events, queue_urls=get_settings().registry_event_queue_urls)


def commit_and_publish(*, repository: RegistryRepository, units: Sequence[Unit]) -> list[Unit]:
    """Commit units and publish their events; return the units whose conditions failed (nothing of them written)."""
    result = repository.commit(units)
    dispatch(repository=repository, outbox=result.outbox)
    return result.failed


def dispatch(*, repository: RegistryRepository, outbox: Sequence[OutboxRecord]) -> bool:
    """Publish the events of freshly committed outbox records and delete them; ``False`` leaves them to the relay."""
    return shared_outbox.dispatch(store=repository, records=outbox, publish=publish_events, logger=logger)


def relay(*, repository: RegistryRepository, run: ScheduledRun | None = None) -> dict[str, int]:
    """Publish outbox records older than ``RELAY_AFTER_SECONDS`` and delete them."""
    return shared_outbox.relay(
        store=repository, publish=publish_events, logger=logger, after_seconds=RELAY_AFTER_SECONDS, run=run
    )
