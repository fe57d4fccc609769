"""Standard queues on the patched moto server, over HTTP: moto's answers, at a cost that ignores the backlog."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.sqs.models import Message

COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


def _queue(sqs: Any, **attributes: str) -> str:
    url: str = sqs.create_queue(QueueName=f"q{uuid.uuid4().hex[:12]}", Attributes=attributes)["QueueUrl"]
    return url


def _counts(sqs: Any, url: str) -> tuple[int, int, int]:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=COUNTS)["Attributes"]
    visible, in_flight, delayed = (int(attributes[name]) for name in COUNTS)
    return visible, in_flight, delayed


def _receive(sqs: Any, url: str, count: int = 10, **options: Any) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, **options).get(
        "Messages", []
    )
    return messages


def test_counts_follow_sends_receives_visibility_changes_and_deletes(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="30")
    for number in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{number}")
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
    assert _counts(sqs, url) == (5, 0, 1)

    first, second = _receive(sqs, url, 2)
    assert [first["Body"], second["Body"]] == ["m0", "m1"], "oldest first"
    assert _counts(sqs, url) == (3, 2, 1)

    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0)
    assert _counts(sqs, url) == (4, 1, 1)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=second["ReceiptHandle"])
    assert _counts(sqs, url) == (4, 0, 1)

    again = _receive(sqs, url, 1)[0]
    assert again["Body"] == "m0"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])  # an earlier handle of the message
    sqs.delete_message(QueueUrl=url, ReceiptHandle=again["ReceiptHandle"])  # deleting again is fine
    assert _counts(sqs, url) == (3, 0, 1)
    assert [m["Body"] for m in _receive(sqs, url)] == ["m2", "m3", "m4"], "the delayed one is not delivered yet"

    with pytest.raises(ClientError) as invalid:
        sqs.delete_message(QueueUrl=url, ReceiptHandle="not-a-handle")
    assert invalid.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    with pytest.raises(ClientError):
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="not-a-handle", VisibilityTimeout=0)

    sqs.purge_queue(QueueUrl=url)
    assert _counts(sqs, url) == (0, 0, 0)


def test_a_message_received_too_often_moves_to_the_dead_letter_queue(sqs: Any) -> None:
    dead_letters = _queue(sqs)
    arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = _queue(sqs, RedrivePolicy=json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2}))
    sqs.send_message(
        QueueUrl=url,
        MessageBody="poison",
        MessageAttributes={"type": {"DataType": "String", "StringValue": "wall_reply_new"}},
    )
    for _ in range(2):
        (message,) = _receive(sqs, url, AttributeNames=["All"])
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    assert _receive(sqs, url) == []
    assert _counts(sqs, url) == (0, 0, 0)
    (dead,) = _receive(sqs, dead_letters, MessageAttributeNames=["All"], AttributeNames=["All"])
    assert dead["Body"] == "poison"
    assert dead["MessageAttributes"]["type"]["StringValue"] == "wall_reply_new"
    assert int(dead["Attributes"]["ApproximateReceiveCount"]) == 3


def test_a_long_poll_returns_as_soon_as_a_message_arrives(sqs: Any) -> None:
    url = _queue(sqs)
    threading.Timer(0.5, lambda: sqs.send_message(QueueUrl=url, MessageBody="late")).start()
    started = time.monotonic()
    messages = _receive(sqs, url, WaitTimeSeconds=10)
    assert [m["Body"] for m in messages] == ["late"]
    assert time.monotonic() - started < 5


def test_sending_and_counting_look_at_no_message_of_the_backlog(sqs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    url = _queue(sqs)
    for start in range(0, 1000, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{start + n}"} for n in range(10)]
        )
    _receive(sqs, url, 10)  # ten in flight
    looked_at = {"visible": 0}
    visible = Message.visible

    def counted(message: Message) -> bool:
        looked_at["visible"] += 1
        return bool(visible.fget(message))  # type: ignore[attr-defined]

    monkeypatch.setattr(Message, "visible", property(counted))
    sqs.send_message(QueueUrl=url, MessageBody="one more")
    assert _counts(sqs, url) == (991, 10, 0)
    assert looked_at["visible"] <= 10, "only the messages in flight are looked at, not the 991 waiting"
