"""Lean Lambda entrypoints for queue and schedule workers (no FastAPI import).

Entrypoints only parse and dispatch: a worker module declares ``handler = sqs_handler(handle_record, ...)`` and
keeps its logic in plain functions that unit tests call directly. On Yandex Cloud the same handlers run behind a
Message Queue trigger through ``ymq_entrypoint``.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel

from shared.events import Event, parse_event
from shared.logs import get_logger, invocation_context

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]
RecordHandler = Callable[[SQSRecord], None]
WORKER_HANDLER_VARIABLE = "GOSPUBLIKI_WORKER_HANDLER"


def sqs_handler(record_handler: RecordHandler, *, service: str) -> LambdaHandler:
    """An SQS Lambda handler that reports partial batch failures (``ReportBatchItemFailures``)."""
    processor = BatchProcessor(event_type=EventType.SQS)
    logger = get_logger(service)

    def handle(record: SQSRecord) -> None:  # Powertools passes the record by this keyword
        record_handler(record)

    @invocation_context(logger)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not event.get("Records"):  # Powertools refuses an empty batch; there is nothing to report
            return {"batchItemFailures": []}
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


def ymq_trigger(sqs_lambda_handler: LambdaHandler) -> LambdaHandler:
    """Yandex Message Queue trigger adapter around a worker's SQS handler (Yandex Cloud Functions).

    YMQ's envelope becomes the SQS event the handler already takes. A YMQ trigger has no partial batch response, so
    if any record failed the invocation raises and the whole batch returns to the queue: handlers are idempotent,
    and the queue's redrive policy still moves a poison message to its DLQ.
    """

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = [_sqs_record(message["details"]) for message in event.get("messages", [])]
        response = sqs_lambda_handler({"Records": records}, YandexContext.of(context))
        failed = response.get("batchItemFailures") or []
        if failed:
            raise BatchFailedError(f"{len(failed)} of {len(records)} messages failed; the batch will be redelivered")
        return {"statusCode": 200}

    return handler


@dataclass(frozen=True)
class YandexContext:
    """The Lambda context attributes Powertools reads, taken from a Yandex Cloud Functions context."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str

    @classmethod
    def of(cls, context: Any) -> YandexContext:
        """Map Yandex's ``request_id``/``function_version`` onto Lambda's names (Lambda contexts pass through)."""
        return cls(
            function_name=str(getattr(context, "function_name", "worker")),
            memory_limit_in_mb=int(getattr(context, "memory_limit_in_mb", 0)),
            invoked_function_arn=str(
                getattr(context, "invoked_function_arn", None) or getattr(context, "function_version", "")
            ),
            aws_request_id=str(getattr(context, "aws_request_id", None) or getattr(context, "request_id", "")),
        )


class BatchFailedError(Exception):
    """Some records of a YMQ-triggered batch failed."""


def _sqs_record(details: Mapping[str, Any]) -> dict[str, Any]:
    message = details["message"]
    return {
        "messageId": message["message_id"],
        "receiptHandle": message.get("receipt_handle", ""),
        "body": message["body"],
        "attributes": message.get("attributes", {}),
        "messageAttributes": message.get("message_attributes", {}),
        "md5OfBody": message.get("md5_of_body", ""),
        "eventSource": "yandex:ymq",
        "eventSourceARN": details.get("queue_id", ""),
        "awsRegion": "ru-central1",
    }


@cache
def _target(name: str) -> LambdaHandler:
    module_name, _, attribute = name.rpartition(".")
    target: LambdaHandler = getattr(importlib.import_module(module_name), attribute)
    return ymq_trigger(target)


def ymq_entrypoint(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Entrypoint of a worker deployed as a Yandex Cloud Function behind a YMQ trigger.

    ``GOSPUBLIKI_WORKER_HANDLER`` names the worker's SQS handler as the SAM template does
    (e.g. ``services.appeals.ingest.handler``); one function per worker, same code and artifact as on AWS.
    """
    return _target(os.environ[WORKER_HANDLER_VARIABLE])(event, context)


class ScheduledRun(BaseModel):
    """The ``Input`` that EventBridge Scheduler (ScheduleV2) delivers, as set in the template."""

    scheduled_time: datetime
    execution_id: str


def scheduled_handler(job: Callable[[ScheduledRun], Any], *, service: str) -> LambdaHandler:
    """A schedule handler: parses the scheduler input and runs ``job`` (which must be idempotent per run)."""
    logger = get_logger(service)

    @invocation_context(logger)
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 - Lambda signature
        run = ScheduledRun.model_validate(event if isinstance(event, dict) else json.loads(event))
        result = job(run)
        return {"execution_id": run.execution_id, "result": result}

    return handler
