"""Ingest worker: turns queued VK events into appeals, answers and activity (exactly one effect per event).

Entrypoint only: parse the queued envelope, find the page, dispatch on ``type`` through ``handle_event``
(imported with the appeals service on the first record, not at cold start). Dedupe lives in the effects'
transactions; an event we cannot use is recorded as rejected, so only infrastructure failures fail a record.
Activities, appeal events and notices are published once per invocation, after every record ran; nothing is
written to an outbox here (SQS redelivery is the retry): a failed publish fails the invocation, and the redelivered
records re-publish the same activity ids, ``change_id``s and ``notice_id``s (a duplicate re-emits what it had).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from services.appeals import bootstrap
from services.appeals.queued import QueuedEvent
from shared.config import get_settings
from shared.events import Event, make_event
from shared.logs import get_logger
from shared.publisher import publish
from shared.workers import sqs_handler

if TYPE_CHECKING:
    from services.appeals.workflow import Effects

logger = get_logger("appeals")
_activities: list[Event] = []  # of the running invocation; Lambda runs one invocation per process at a time
_effects: list[Effects] = []  # appeal events and notices of the running invocation


def process_record(record: SQSRecord) -> None:
    """Apply one queued VK event."""
    from services.appeals.handlers import VK_EVENT_HANDLERS, handle_event  # on the first record, not at cold start
    from services.appeals.workflow import Effects

    event = QueuedEvent.model_validate_json(record.body)
    if event.type not in VK_EVENT_HANDLERS:
        logger.debug("VK event type not handled", extra={"type": event.type})
        return
    if event.retry_counter:
        logger.info("VK redelivered an event", extra={"type": event.type, "retry_counter": event.retry_counter})
    page = bootstrap.repository().cached_page_by_group(event.group_id)
    if page is None or not page.active:
        logger.info("event for an unknown or archived group dropped", extra={"group_id": event.group_id})
        return
    effects = Effects()
    activity = handle_event(event, page, effects)
    if activity is not None:
        _activities.append(make_event("appeals", activity))
    _effects.append(effects)


_process_batch = sqs_handler(process_record, service="appeals")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process the batch (partial failures reported), then publish its activities, appeal events and notices."""
    try:
        response = _process_batch(event, context)
        events = _activities + [make_event("appeals", payload) for effects in _effects for payload in effects.events]
        if events and get_settings().activity_queue_url:
            publish(events, queue_urls=[get_settings().activity_queue_url])
        notices = [notice for effects in _effects for notice in effects.notices]
        if notices:
            from services.appeals.bootstrap import send_notices

            send_notices(notices)
        return response
    finally:
        _activities.clear()
        _effects.clear()
