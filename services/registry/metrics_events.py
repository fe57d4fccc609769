"""Registry queue worker for what the metrics service learns about pages (no FastAPI import).

``page.metrics`` sets a page's subscriber count from VK; ``quality_mark.awarded`` adds the year to its quality marks.
Each change is a normal page revision (published to the other services); an unchanged value changes nothing, so a
redelivered event is harmless.
"""

from __future__ import annotations

from collections.abc import Callable

from services.registry import bootstrap
from services.registry.counters import page_change_unit
from services.registry.pages import finish_page
from services.registry.publishing import commit_and_publish
from services.registry.records import PageRecord, bump, now_iso
from shared.errors import ConflictError
from shared.events import Event, PageMetricsUpdated, QualityMarkAwarded
from shared.workers import event_router, sqs_handler

ATTEMPTS = 3


def _change_page(page_id: str, change: Callable[[PageRecord], PageRecord]) -> bool:
    """Apply ``change`` to the stored page as a new revision; False if the page is unknown or nothing changed."""
    repository = bootstrap.repository()
    for _ in range(ATTEMPTS):
        before = repository.get_page(page_id)
        if before is None or before["status"] != "active":
            return False
        changed = change(before)
        if changed == before:
            return False
        after = finish_page(bump(changed, at=now_iso()))
        institution = repository.get_institution(before["institution_id"])
        if institution is None:
            return False
        if not commit_and_publish(repository=repository, units=[page_change_unit(institution, before, after)]):
            return True
    raise ConflictError("page changed concurrently, retry")


def on_page_metrics(event: Event) -> None:
    payload = event.body.payload
    assert isinstance(payload, PageMetricsUpdated)
    _change_page(payload.page_id, lambda page: {**page, "subscribers": payload.subscribers})


def on_quality_mark(event: Event) -> None:
    payload = event.body.payload
    assert isinstance(payload, QualityMarkAwarded)
    _change_page(
        payload.page_id,
        lambda page: {**page, "quality_marks": sorted({*(page.get("quality_marks") or []), payload.year})},
    )


EVENT_HANDLERS = {"page.metrics": on_page_metrics, "quality_mark.awarded": on_quality_mark}

handler = sqs_handler(event_router(EVENT_HANDLERS, service="registry"), service="registry")
