"""Small helpers over the low-level DynamoDB client: (de)serialisation, opaque cursors, conditional writes.

Only the subset that YDB Document API also supports is used: Get/Put/Update/Delete/Query/BatchWrite/
TransactWrite (at most 25 items), no PartiQL, no Scan on request paths.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from shared.errors import BadRequestError

MAX_TRANSACTION_ITEMS = 25
MAX_BATCH_WRITE_ITEMS = 25

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict as a DynamoDB item (``None`` values dropped, floats as Decimals)."""
    return {key: _serializer.serialize(_to_dynamo(value)) for key, value in item.items() if value is not None}


def serialize_value(value: Any) -> dict[str, Any]:
    """One plain value as a DynamoDB attribute value."""
    result: dict[str, Any] = dict(_serializer.serialize(_to_dynamo(value)))
    return result


def deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as a plain dict (Decimals back to int/float)."""
    return {key: _from_dynamo(_deserializer.deserialize(value)) for key, value in item.items()}


def encode_cursor(last_evaluated_key: Mapping[str, Any] | None) -> str | None:
    """An opaque page cursor for ``LastEvaluatedKey`` (``None`` when there is no next page)."""
    if not last_evaluated_key:
        return None
    raw = json.dumps(deserialize(last_evaluated_key), separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, *, shape: Mapping[str, str | None] | None = None, optional: Collection[str] = ()
) -> dict[str, Any] | None:
    """``ExclusiveStartKey`` from a cursor made by ``encode_cursor``; 400 naming ``cursor`` if it was not.

    ``shape`` names every key attribute of the index the cursor pages (with the value it must have, e.g. the query's
    partition, or ``None`` for any string), ``optional`` any attribute the caller adds: a cursor with other
    attributes, missing ones, another partition or non-string values is refused before it reaches DynamoDB.
    """
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise BadRequestError("malformed cursor", field="cursor") from error
    if not isinstance(key, dict) or not all(isinstance(v, str | int) and not isinstance(v, bool) for v in key.values()):
        raise BadRequestError("malformed cursor", field="cursor")
    if shape is not None:
        allowed = set(shape) | set(optional)
        wrong = set(key) - allowed or set(shape) - set(key)
        mismatched = any(
            not isinstance(key[name], str) or (value is not None and key[name] != value)
            for name, value in shape.items()
            if name in key
        )
        if wrong or mismatched:
            raise BadRequestError("cursor does not belong to this query", field="cursor")
    return serialize(key)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of at most ``size`` items."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def is_conditional_failure(error: Exception) -> bool:
    """True for a failed ``ConditionExpression`` (also inside a cancelled transaction)."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return False
    code = response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = response.get("CancellationReasons") or []
        return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
    return False
