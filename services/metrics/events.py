"""Metrics queue worker: counts activity and keeps the page projection (no FastAPI import)."""

from __future__ import annotations

from shared.events import ActivityRecorded, Event, PageArchived, PageUpserted
from shared.workers import event_router, sqs_handler

from . import bootstrap, service


def on_activity(event: Event) -> None:
    assert isinstance(event.body.payload, ActivityRecorded)
    service.record_activity(repository=bootstrap.repository(), activity=event.body.payload)


def on_page(event: Event) -> None:
    assert isinstance(event.body.payload, PageUpserted | PageArchived)
    service.apply_page(repository=bootstrap.repository(), page=event.body.payload)


EVENT_HANDLERS = {
    "activity.recorded": on_activity,
    "page.upserted": on_page,
    "page.archived": on_page,
}

handler = sqs_handler(event_router(EVENT_HANDLERS, service="metrics"), service="metrics")
