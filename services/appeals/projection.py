"""Projection worker: keeps ``group_id -> page`` and ``institution -> region, zone`` current from registry events (SQS).

Only VK pages with a community id are projected; institutions are projected for scoping appeal lists; the newest
``revision`` wins.
"""

from __future__ import annotations

from services.appeals import bootstrap
from services.appeals.repository import InstitutionRecord, PageRef
from shared.events import Event, InstitutionUpsertedEvent, PageArchivedEvent, PageUpserted, PageUpsertedEvent
from shared.logs import get_logger
from shared.workers import event_router, sqs_handler

logger = get_logger("appeals")


def _vk_page(payload: PageUpserted) -> PageRef | None:
    """The page's state as projected here (``None`` for a page without a VK community)."""
    if payload.platform != "vk" or payload.group_id is None:
        return None
    return PageRef(
        page_id=payload.page_id,
        institution_id=payload.institution_id,
        region_code=payload.region_code,
        group_id=payload.group_id,
        status=payload.status,
        revision=payload.revision,
        secret_salt=payload.secret_salt,
        secret_hash=payload.secret_hash,
        confirmation_code=payload.confirmation_code,
    )


def on_page_upserted(event: Event) -> None:
    """Store the page's state unless a newer revision is stored."""
    assert isinstance(event.body, PageUpsertedEvent)
    payload = event.body.payload
    page = _vk_page(payload)
    applied = page is not None and bootstrap.repository().project_page(page)
    logger.info("page projected", extra={"page_id": payload.page_id, "revision": payload.revision, "applied": applied})


def on_page_archived(event: Event) -> None:
    """Mark the page archived unless a newer revision is stored."""
    assert isinstance(event.body, PageArchivedEvent)
    payload = event.body.payload
    applied = payload.platform == "vk" and bootstrap.repository().archive_page(
        page_id=payload.page_id,
        institution_id=payload.institution_id,
        region_code=payload.region_code,
        group_id=payload.group_id,
        revision=payload.revision,
    )
    logger.info("page archived", extra={"page_id": payload.page_id, "revision": payload.revision, "applied": applied})


def on_institution_upserted(event: Event) -> None:
    """Store the institution's region and own time zone unless a newer revision is stored."""
    assert isinstance(event.body, InstitutionUpsertedEvent)
    payload = event.body.payload
    institution: InstitutionRecord = {
        "institution_id": payload.institution_id,
        "region_code": payload.region_code,
        "revision": payload.revision,
    }
    if payload.time_zone is not None:
        institution["time_zone"] = payload.time_zone
    applied = bootstrap.repository().project_institution(institution)
    logger.info(
        "institution projected",
        extra={"institution_id": payload.institution_id, "revision": payload.revision, "applied": applied},
    )


REGISTRY_EVENT_HANDLERS = {
    "page.upserted": on_page_upserted,
    "page.archived": on_page_archived,
    "institution.upserted": on_institution_upserted,
}

handler = sqs_handler(event_router(REGISTRY_EVENT_HANDLERS, service="appeals"), service="appeals")
