"""Metrics queue worker: counts a whole batch in memory, keeps the registry projection (no FastAPI import).

Counting events of a batch (activity and appeal events) are summed per page and local day, so each page-day item is
written once per batch; the item's ``seen`` digests make a redelivered batch or a redriven message count nothing
twice (``service.count``). Registry events update the projection one by one. A record that fails is reported in
``batchItemFailures`` (with every record of the same page-day) and retried by the queue.
"""

from __future__ import annotations

from typing import Any

from shared.events import (
    AppealAnswered,
    AppealClosed,
    AppealOverdue,
    Event,
    InstitutionUpserted,
    PageArchived,
    PageUpserted,
    parse_event,
)
from shared.logs import get_logger, invocation_context

from . import bootstrap, service
from .counters import Contribution, contribution

logger = get_logger("metrics")


def _project(event: Event) -> None:
    payload = event.body.payload
    repository = bootstrap.repository()
    if isinstance(payload, PageUpserted | PageArchived):
        service.apply_page(repository=repository, page=payload)
    elif isinstance(payload, InstitutionUpserted):
        service.apply_institution(repository=repository, institution=payload)
    elif isinstance(payload, AppealOverdue | AppealAnswered | AppealClosed):
        service.track_overdue(repository=repository, appeal=payload)


def process(records: list[dict[str, Any]]) -> list[str]:
    """Count and project one SQS batch; the message ids that failed."""
    failed: list[str] = []
    contributions: dict[str, Contribution] = {}
    for record in records:
        message_id = record["messageId"]
        try:
            event = parse_event(record["body"])
            _project(event)
            counted = contribution(event.body.payload)
        except Exception:  # a poison or failing record fails alone; the queue retries it, then the DLQ keeps it
            logger.exception("record failed", extra={"message_id": message_id})
            failed.append(message_id)
            continue
        if counted is not None:
            contributions[message_id] = counted
    failed += service.count(repository=bootstrap.repository(), contributions=contributions)
    return failed


@invocation_context(logger)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 - Lambda signature
    """SQS entrypoint with partial batch responses (``ReportBatchItemFailures``)."""
    failed = process(event.get("Records") or [])
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
