"""Publishing versioned events to SQS queues in batches (``SendMessageBatch``, 10 per request)."""

from __future__ import annotations

from collections.abc import Sequence

from shared.aws import sqs
from shared.dynamo import chunked
from shared.errors import UnavailableError
from shared.events import Event

SQS_BATCH_SIZE = 10


def publish(events: Sequence[Event], *, queue_urls: Sequence[str]) -> None:
    """Send every event to every queue; raise ``UnavailableError`` if any message was not accepted.

    Event ids are the message ids' source of truth: consumers dedupe on ``event_id``, so a retried publish
    after a partial failure is harmless.
    """
    client = sqs()
    for queue_url in queue_urls:
        for chunk in chunked(events, SQS_BATCH_SIZE):
            response = client.send_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {
                        "Id": str(index),
                        "MessageBody": event.model_dump_json(),
                        "MessageAttributes": {"type": {"DataType": "String", "StringValue": event.type}},
                    }
                    for index, event in enumerate(chunk)
                ],
            )
            failed = response.get("Failed") or []
            if failed:
                raise UnavailableError(f"{len(failed)} of {len(chunk)} events were not accepted by the queue")
