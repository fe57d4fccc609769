"""SQS -> handler dispatcher with Lambda's event-source-mapping semantics, for the local stack.

Long-polls each queue the template wires to a function, invokes the handler with a real SQS event, deletes what
succeeded, and leaves failures for redelivery: ``batchItemFailures`` are honoured, an exception fails the whole
batch, and the queue's redrive policy moves a poison message to its DLQ after ``maxReceiveCount`` receives.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from shared.aws import sqs
from shared.logs import get_logger
from tooling.local.lambda_runtime import LambdaContext, load_handler, sqs_event
from tooling.local.template import QueueMapping, Template

logger = get_logger("local")


@dataclass
class ConsumerStats:
    """What one mapping has done so far (shown by ``/health``)."""

    batches: int = 0
    succeeded: int = 0
    failed: int = 0
    last_error: str | None = None
    alive: bool = False


@dataclass
class QueueConsumer:
    """One event source mapping: a queue polled by one thread into one function."""

    mapping: QueueMapping
    queue_url: str
    queue_arn: str
    region: str
    retry_delay_seconds: int | None
    stats: ConsumerStats = field(default_factory=ConsumerStats)

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Receive one batch and process it; the number of messages received."""
        client = sqs()
        response = client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if messages:
            self._invoke(messages)
        return len(messages)

    def _invoke(self, messages: list[Any]) -> None:
        event = sqs_event(messages, queue_arn=self.queue_arn, region=self.region)
        context = LambdaContext(function_name=self.mapping.function_id)
        failed_ids: set[str]
        try:
            result = load_handler(self.mapping.handler)(event, context) or {}
            failed_ids = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception as error:  # a crashed invocation fails the whole batch, as in Lambda
            logger.exception("handler raised; whole batch will be retried", extra={"function": context.function_name})
            self.stats.last_error = type(error).__name__
            failed_ids = {message["MessageId"] for message in messages}
        self.stats.batches += 1
        self.stats.failed += len(failed_ids)
        self.stats.succeeded += len(messages) - len(failed_ids)
        self._settle(messages, failed_ids)

    def _settle(self, messages: list[Any], failed_ids: set[str]) -> None:
        client = sqs()
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        failed = [m for m in messages if m["MessageId"] in failed_ids]
        if failed and self.retry_delay_seconds is not None:
            client.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay_seconds}
                    for i, m in enumerate(failed)
                ],
            )


class Dispatcher:
    """Runs one consumer thread per SQS event source mapping in the template."""

    def __init__(self, template: Template, *, retry_delay_seconds: int | None = None) -> None:
        self.consumers = [
            QueueConsumer(
                mapping=mapping,
                queue_url=template.queue_urls[mapping.queue_id],
                queue_arn=template.resolve({"Fn::GetAtt": [mapping.queue_id, "Arn"]}),
                region=template.region,
                retry_delay_seconds=retry_delay_seconds,
            )
            for mapping in template.queue_mappings()
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        sqs()  # the process's client, made once here rather than by every consumer thread at the same moment
        for consumer in self.consumers:
            thread = threading.Thread(
                target=self._run, args=(consumer,), name=f"sqs-{consumer.mapping.function_id}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _run(self, consumer: QueueConsumer) -> None:
        consumer.stats.alive = True
        while not self._stop.is_set():
            try:
                consumer.poll_once()
            except Exception as error:  # keep polling: a moto hiccup must not kill the consumer
                consumer.stats.last_error = type(error).__name__
                logger.exception("poll failed", extra={"function": consumer.mapping.function_id})
                time.sleep(0.5)
        consumer.stats.alive = False

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
