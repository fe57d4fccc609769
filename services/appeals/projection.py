"""Projection worker: keeps ``group_id -> page`` current from the registry's ``page.*`` events (SQS)."""

from __future__ import annotations

from services.appeals import pages
from shared.events import Event, PageArchivedEvent, PageUpsertedEvent
from shared.logs import get_logger
from shared.workers import event_router, sqs_handler

logger = get_logger("appeals")


def on_page_upserted(event: Event) -> None:
    """Store the page's state unless a newer revision is stored."""
    assert isinstance(event.body, PageUpsertedEvent)
    payload = event.body.payload
    applied = pages.apply_page_upserted(payload)
    logger.info("page projected", extra={"page_id": payload.page_id, "revision": payload.revision, "applied": applied})


def on_page_archived(event: Event) -> None:
    """Mark the page archived unless a newer revision is stored."""
    assert isinstance(event.body, PageArchivedEvent)
    payload = event.body.payload
    applied = pages.apply_page_archived(payload)
    logger.info("page archived", extra={"page_id": payload.page_id, "revision": payload.revision, "applied": applied})


REGISTRY_EVENT_HANDLERS = {"page.upserted": on_page_upserted, "page.archived": on_page_archived}

handler = sqs_handler(event_router(REGISTRY_EVENT_HANDLERS, service="appeals"), service="appeals")
