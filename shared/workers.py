"""Lean Lambda entrypoints for queue and schedule workers (no FastAPI import).

Entrypoints only parse and dispatch: a worker module declares ``handler = sqs_handler(handle_record, ...)`` and
keeps its logic in plain functions that unit tests call directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel

from shared.events import Event, parse_event
from shared.logs import get_logger

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
RecordHandler = Callable[[SQSRecord], None]


def sqs_handler(record_handler: RecordHandler, *, service: str) -> LambdaHandler:
    """An SQS Lambda handler that reports partial batch failures (``ReportBatchItemFailures``)."""
    processor = BatchProcessor(event_type=EventType.SQS)
    logger = get_logger(service)

    def handle(record: SQSRecord) -> None:  # Powertools passes the record by this keyword
        record_handler(record)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response = process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
        return dict(response)

    return handler


def event_router(handlers: Mapping[str, Callable[[Event], None]], *, service: str) -> RecordHandler:
    """A record handler that parses the versioned ``Event`` and calls the handler for its type.

    Types this service does not consume are acknowledged and skipped; an unparseable body or an unknown version
    raises, so the record is retried and finally lands in the DLQ.
    """
    logger = get_logger(service)

    def route(record: SQSRecord) -> None:
        event = parse_event(record.body)
        handler = handlers.get(event.type)
        if handler is None:
            logger.debug("event type not consumed here", extra={"event_type": event.type})
            return
        handler(event)

    return route


def ymq_handler(record_handler: RecordHandler) -> LambdaHandler:
    """Yandex Message Queue trigger adapter: same record handler, YMQ envelope; a failure fails the whole batch."""

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 - Lambda signature
        for message in event.get("messages", []):
            details = message["details"]["message"]
            record_handler(
                SQSRecord(
                    {
                        "messageId": details["message_id"],
                        "body": details["body"],
                        "attributes": details.get("attributes", {}),
                        "messageAttributes": details.get("message_attributes", {}),
                    }
                )
            )
        return {"statusCode": 200}

    return handler


class ScheduledRun(BaseModel):
    """The ``Input`` that EventBridge Scheduler (ScheduleV2) delivers, as set in the template."""

    scheduled_time: datetime
    execution_id: str


def scheduled_handler(job: Callable[[ScheduledRun], Any], *, service: str) -> LambdaHandler:
    """A schedule handler: parses the scheduler input and runs ``job`` (which must be idempotent per run)."""
    logger = get_logger(service)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 - Lambda signature
        run = ScheduledRun.model_validate(event if isinstance(event, dict) else json.loads(event))
        result = job(run)
        return {"execution_id": run.execution_id, "result": result}

    return handler
