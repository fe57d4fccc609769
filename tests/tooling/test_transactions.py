"""TransactWriteItems on the patched moto server, over HTTP: item-level rollback, atomic conditions."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.tooling.conftest import TableFactory


def _item(pk: str, sk: str = "A", **attributes: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}, **{name: {"S": value} for name, value in attributes.items()}}


def _get(dynamodb: Any, table: str, pk: str, sk: str = "A") -> dict[str, Any] | None:
    item: dict[str, Any] | None = dynamodb.get_item(
        TableName=table, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=True
    ).get("Item")
    return item


def _in_index(dynamodb: Any, table: str, partition: str) -> list[str]:
    items = dynamodb.query(
        TableName=table,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :p",
        ExpressionAttributeValues={":p": {"S": partition}},
    )["Items"]
    return [item["PK"]["S"] for item in items]


def test_a_failed_condition_on_the_last_item_leaves_every_earlier_item_as_it_was(
    dynamodb: Any, make_table: TableFactory
) -> None:
    table = make_table()
    dynamodb.put_item(TableName=table, Item=_item("updated", status="old", GSI1PK="G#old", GSI1SK="1"))
    dynamodb.put_item(TableName=table, Item=_item("deleted", status="kept", GSI1PK="G#old", GSI1SK="2"))
    dynamodb.put_item(TableName=table, Item=_item("replaced", status="old"))

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("created", GSI1PK="G#new", GSI1SK="1")}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"PK": {"S": "updated"}, "SK": {"S": "A"}},
                        "UpdateExpression": "SET #s = :s, GSI1PK = :g",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":s": {"S": "new"}, ":g": {"S": "G#new"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"PK": {"S": "deleted"}, "SK": {"S": "A"}}}},
                {"Put": {"TableName": table, "Item": _item("replaced", status="new")}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": _item("guarded"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )

    error = cancelled.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [reason["Code"] for reason in error["CancellationReasons"]] == ["None"] * 4 + ["ConditionalCheckFailed"]
    assert _get(dynamodb, table, "created") is None, "a put of a new item is undone"
    assert _get(dynamodb, table, "updated") == _item("updated", status="old", GSI1PK="G#old", GSI1SK="1")
    assert _get(dynamodb, table, "deleted") == _item("deleted", status="kept", GSI1PK="G#old", GSI1SK="2")
    assert _get(dynamodb, table, "replaced") == _item("replaced", status="old"), "an overwritten item is put back"
    assert _get(dynamodb, table, "guarded") is None
    assert sorted(_in_index(dynamodb, table, "G#old")) == ["deleted", "updated"], "the index is restored too"
    assert _in_index(dynamodb, table, "G#new") == []


def test_a_transaction_whose_conditions_hold_writes_every_item(dynamodb: Any, make_table: TableFactory) -> None:
    table = make_table()
    dynamodb.put_item(TableName=table, Item=_item("deleted"))
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _item("created"), "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Delete": {"TableName": table, "Key": {"PK": {"S": "deleted"}, "SK": {"S": "A"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"PK": {"S": "counter"}, "SK": {"S": "A"}},
                    "UpdateExpression": "ADD hits :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    assert _get(dynamodb, table, "created") == _item("created")
    assert _get(dynamodb, table, "deleted") is None
    assert _get(dynamodb, table, "counter") == {"PK": {"S": "counter"}, "SK": {"S": "A"}, "hits": {"N": "1"}}


def test_a_validation_error_fails_the_request_and_writes_nothing(dynamodb: Any, make_table: TableFactory) -> None:
    table = make_table()
    key = {"PK": {"S": "twice"}, "SK": {"S": "A"}}
    with pytest.raises(ClientError) as rejected:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("first")}},
                {"Put": {"TableName": table, "Item": {**key, "n": {"S": "1"}}}},
                {"Delete": {"TableName": table, "Key": key}},
            ]
        )
    assert rejected.value.response["Error"]["Code"] == "ValidationException"
    assert _get(dynamodb, table, "first") is None


def test_concurrent_transactions_guarding_one_key_admit_exactly_one(dynamodb: Any, make_table: TableFactory) -> None:
    table = make_table()
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def claim(number: int) -> None:
        start.wait()
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": _item("UNIQUE#inn", owner=str(number)),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {"Put": {"TableName": table, "Item": _item(f"INSTITUTION#{number}")}},
                ]
            )
            outcomes.append("won")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=claim, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["TransactionCanceledException"] * 7 + ["won"]
    owner = _get(dynamodb, table, "UNIQUE#inn")
    assert owner is not None
    institutions = [n for n in range(8) if _get(dynamodb, table, f"INSTITUTION#{n}") is not None]
    assert institutions == [int(owner["owner"]["S"])], "only the winner's other items were written"
