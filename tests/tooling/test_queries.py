"""Queries of one partition on the patched moto server: same results as a full walk, and the serializer's output."""

from __future__ import annotations

import json
from typing import Any

from moto.core.serialize import JSONSerializer, XFormedAttributePicker
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import dynamo_to_dict

from tests.tooling.conftest import TableFactory
from tooling.local.patches.dynamodb import AttributeValueSerializer


def _put(dynamodb: Any, table: str, pk: str, sk: str, **attributes: str) -> None:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, **{name: {"S": value} for name, value in attributes.items()}}
    dynamodb.put_item(TableName=table, Item=item)


def _all_pages(dynamodb: Any, **query: Any) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    while True:
        page = dynamodb.query(**query)
        keys += [(item["PK"]["S"], item["SK"]["S"]) for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return keys
        query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_base_table_query_returns_its_partition_in_order_across_pages(
    dynamodb: Any, make_table: TableFactory
) -> None:
    table = make_table()
    for pk in ("A", "B", "C"):
        for sk in ("3", "1", "2", "5", "4"):
            _put(dynamodb, table, pk, sk)
    query = {"TableName": table, "KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "B"}}}
    assert _all_pages(dynamodb, **query, Limit=2) == [("B", s) for s in "12345"]
    assert _all_pages(dynamodb, **query, ScanIndexForward=False) == [("B", s) for s in "54321"]
    ranged = {**query, "KeyConditionExpression": "PK = :p AND SK BETWEEN :low AND :high"}
    ranged["ExpressionAttributeValues"] = {":p": {"S": "B"}, ":low": {"S": "2"}, ":high": {"S": "4"}}
    assert _all_pages(dynamodb, **ranged) == [("B", "2"), ("B", "3"), ("B", "4")]
    missing = {**query, "ExpressionAttributeValues": {":p": {"S": "nobody"}}}
    assert dynamodb.query(**missing)["Items"] == []


def test_a_gsi_query_follows_puts_updates_and_deletes(dynamodb: Any, make_table: TableFactory) -> None:
    table = make_table()
    for number in range(6):
        _put(dynamodb, table, f"I#{number}", "A", GSI1PK=f"R#{number % 2}", GSI1SK=f"{number:02d}")

    def region(code: str, **extra: Any) -> list[tuple[str, str]]:
        return _all_pages(
            dynamodb,
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :p",
            ExpressionAttributeValues={":p": {"S": code}},
            **extra,
        )

    assert region("R#0", Limit=2) == [("I#0", "A"), ("I#2", "A"), ("I#4", "A")]
    dynamodb.update_item(
        TableName=table,
        Key={"PK": {"S": "I#2"}, "SK": {"S": "A"}},
        UpdateExpression="SET GSI1PK = :p",
        ExpressionAttributeValues={":p": {"S": "R#1"}},
    )
    dynamodb.delete_item(TableName=table, Key={"PK": {"S": "I#4"}, "SK": {"S": "A"}})
    _put(dynamodb, table, "I#9", "A", GSI1PK="R#0", GSI1SK="00")
    dynamodb.update_item(TableName=table, Key={"PK": {"S": "I#5"}, "SK": {"S": "A"}}, UpdateExpression="REMOVE GSI1PK")
    assert region("R#0") == [("I#0", "A"), ("I#9", "A")]
    assert region("R#1", ScanIndexForward=False) == [("I#3", "A"), ("I#2", "A"), ("I#1", "A")]


def _serialized(serializer: type[JSONSerializer], result: dict[str, Any]) -> Any:
    operation = get_service_model("dynamodb").operation_model("Query")
    body = serializer(
        operation_model=operation, pretty_print=False, value_picker=XFormedAttributePicker(response_transformers=None)
    ).serialize(dynamo_to_dict(result))["body"]
    return json.loads(body)


def test_the_attribute_value_serializer_writes_what_moto_writes() -> None:
    item = {
        "PK": {"S": "ITEM#1"},
        "count": {"N": "42.5"},
        "blob": {"B": "aGVsbG8="},
        "tags": {"SS": ["a", "b"]},
        "scores": {"NS": ["1", "2.5"]},
        "blobs": {"BS": ["aGk=", "dGhlcmU="]},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "source": {"M": {"type": {"S": "wall"}, "ids": {"L": [{"N": "1"}, {"M": {"deep": {"B": "eA=="}}}]}}},
        "history": {"L": [{"M": {"text": {"S": "Когда?"}, "at": {"S": "2026"}}}, {"NULL": True}]},
        "empty": {"L": []},
    }
    stored = {name: DynamoType(value) for name, value in item.items()}  # as moto keeps items: binaries as bytes
    result = {"Items": [stored, {"PK": DynamoType({"S": "ITEM#2"})}], "Count": 2, "ScannedCount": 2}
    assert _serialized(AttributeValueSerializer, result)["Items"][0]["blob"] == {"B": "aGVsbG8="}
    assert _serialized(AttributeValueSerializer, result) == _serialized(JSONSerializer, result)
