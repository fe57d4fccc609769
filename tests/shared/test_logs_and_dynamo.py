"""Personal data never reaches a log line; cursors are opaque and validated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.dynamo import decode_cursor, encode_cursor, serialize
from shared.errors import BadRequestError
from shared.logs import get_logger, redact


def test_redact_hides_personal_data_at_any_depth() -> None:
    record = {"event": {"object": {"text": "Яма на дороге", "from_id": 499047616}, "secret": "s3"}, "group_id": 1}
    assert redact(record) == {"event": {"object": {"text": "***", "from_id": "***"}, "secret": "***"}, "group_id": 1}


def test_logger_output_carries_no_comment_text_or_user_id(capsys: pytest.CaptureFixture[str]) -> None:
    logger = get_logger("test")
    logger.info("appeal stored", extra={"text": "Когда починят дорогу", "author_id": 42424242, "page_id": "p-1"})
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "Когда починят" not in line and "42424242" not in line
    assert json.loads(line)["page_id"] == "p-1"


def test_cursor_round_trip() -> None:
    key = serialize({"PK": "REGION#54", "SK": "2026-11-22#abc", "n": 5})
    cursor = encode_cursor(key)
    assert cursor is not None and "REGION" not in cursor
    assert decode_cursor(cursor) == key
    assert encode_cursor(None) is None and decode_cursor(None) is None


@pytest.mark.parametrize("garbage", ["%%%", "bm90IGpzb24", "WzEsMl0", encode_cursor(serialize({"PK": True}))])
def test_garbage_cursor_is_a_400_naming_the_field(garbage: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        decode_cursor(garbage)
    assert caught.value.field == "cursor"
    assert caught.value.status_code == 400


SHAPE = {"GSI1PK": "REGION#54", "GSI1SK": None, "PK": None, "SK": None}
GOOD = {"GSI1PK": "REGION#54", "GSI1SK": "2026-11-22T10:00:00Z#a", "PK": "APPEAL#a", "SK": "APPEAL"}


@pytest.mark.parametrize(
    "crafted",
    [
        {**GOOD, "GSI1PK": "REGION#77"},  # another partition
        {k: v for k, v in GOOD.items() if k != "SK"},  # a key attribute missing
        {**GOOD, "extra": "x"},  # an attribute the index does not have
        {**GOOD, "SK": 5},  # a number where the key is a string
        {"r": "01"},
    ],
)
def test_a_crafted_cursor_is_refused_before_it_reaches_dynamodb(crafted: dict[str, object]) -> None:
    cursor = encode_cursor(serialize(crafted))
    with pytest.raises(BadRequestError, match="does not belong"):
        decode_cursor(cursor, shape=SHAPE)


def test_a_cursor_of_the_same_query_passes_with_its_optional_attributes() -> None:
    cursor = encode_cursor(serialize({**GOOD, "r": "54"}))
    assert decode_cursor(cursor, shape=SHAPE, optional=("r",)) == serialize({**GOOD, "r": "54"})


def test_each_invocation_logs_its_own_function_and_leaves_nothing_behind(capsys: pytest.CaptureFixture[str]) -> None:
    """Several functions share one process in the local stack: no line may carry another function's name."""
    import threading

    from shared.workers import sqs_handler
    from tooling.local.lambda_runtime import LambdaContext

    logger = get_logger("probe-invocations")
    inside = threading.Barrier(2)

    def record_handler(record: Any) -> None:
        inside.wait(timeout=5)  # both invocations are running at once
        logger.info("record", extra={"body": record.body})

    handler = sqs_handler(record_handler, service="probe-invocations")

    def invoke(function_name: str) -> None:
        record = {"messageId": function_name, "receiptHandle": "r", "body": function_name, "attributes": {}}
        handler(
            {"Records": [{**record, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs"}]},
            LambdaContext(function_name=function_name),
        )

    threads = [threading.Thread(target=invoke, args=(name,)) for name in ("IngestFunction", "MetricsFunction")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logger.info("after the invocations")
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    records = [line for line in lines if line["message"] == "record"]
    assert sorted(line["function_name"] for line in records) == ["IngestFunction", "MetricsFunction"]
    assert all(line["function_name"] == line["body"] for line in records)
    assert "function_name" not in lines[-1] and "cold_start" not in lines[-1]
