"""The one transaction helper, against DynamoDB on the moto server (conflicts, which moto never raises, injected)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from shared import transactions
from shared.aws import dynamodb
from shared.config import get_settings
from shared.dynamo import serialize
from shared.errors import ConflictError, UnavailableError
from shared.transactions import ConditionFailed, transact_write


def _put(pk: str, *, new: bool = True) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": get_settings().metrics_table, "Item": serialize({"PK": pk, "SK": "X"})}
    if new:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    return {"Put": put}


def _exists(pk: str) -> bool:
    key = serialize({"PK": pk, "SK": "X"})
    return "Item" in dynamodb().get_item(TableName=get_settings().metrics_table, Key=key, ConsistentRead=True)


class ConflictingClient:
    """The real client, but the first ``conflicts`` transactions are cancelled as DynamoDB does under contention."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.calls = 0

    def transact_write_items(self, **request: Any) -> Any:
        self.calls += 1
        if self.calls <= self.conflicts:
            reasons = [{"Code": "None"}, {"Code": "TransactionConflict", "Message": "conflict"}]
            raise ClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "x"}, "CancellationReasons": reasons},
                "TransactWriteItems",
            )
        return dynamodb().transact_write_items(**request)


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transactions, "BACKOFF_BASE_SECONDS", 0.0)


def test_commits_every_item(aws: Any) -> None:
    del aws
    transact_write(dynamodb(), [_put("a"), _put("b")])
    assert _exists("a") and _exists("b")


def test_a_failed_condition_names_its_item_and_writes_nothing(aws: Any) -> None:
    del aws
    transact_write(dynamodb(), [_put("taken")])
    with pytest.raises(ConditionFailed) as failure:
        transact_write(dynamodb(), [_put("fresh"), _put("taken"), _put("other", new=False)])
    assert failure.value.failed_positions == {1}
    assert failure.value.failed(1) and not failure.value.failed(0)
    assert not _exists("fresh") and not _exists("other"), "a cancelled transaction rolls back every item"


def test_a_failed_condition_becomes_the_domain_error_mapped_to_it(aws: Any) -> None:
    del aws
    transact_write(dynamodb(), [_put("guard")])
    with pytest.raises(ConflictError) as mapped:
        transact_write(dynamodb(), [_put("x"), _put("guard")], errors={1: ConflictError("taken", field="ogrn")})
    assert mapped.value.field == "ogrn"
    with pytest.raises(ConditionFailed):  # a failure at an unmapped item stays a ConditionFailed
        transact_write(dynamodb(), [_put("guard"), _put("y")], errors={1: ConflictError("taken", field="ogrn")})
    chosen = ConflictError("chosen")
    with pytest.raises(ConflictError, match="chosen"):
        transact_write(dynamodb(), [_put("guard")], errors=lambda failure: chosen if failure.failed(0) else None)


def test_more_than_25_items_are_refused_before_any_request(aws: Any) -> None:
    del aws
    with pytest.raises(ValueError, match="at most 25"):
        transact_write(dynamodb(), [_put(f"k{i}") for i in range(26)])
    assert not _exists("k0")


def test_conflicts_with_concurrent_transactions_are_retried(aws: Any) -> None:
    del aws
    client = ConflictingClient(conflicts=2)
    transact_write(client, [_put("retried")])  # type: ignore[arg-type]  # a stand-in for the client
    assert client.calls == 3
    assert _exists("retried")


def test_lasting_contention_is_a_503_not_a_500(aws: Any) -> None:
    del aws
    client = ConflictingClient(conflicts=100)
    with pytest.raises(UnavailableError):
        transact_write(client, [_put("never")], max_attempts=3)  # type: ignore[arg-type]
    assert client.calls == 3
    assert not _exists("never")


def test_other_errors_pass_through_unchanged(aws: Any) -> None:
    del aws
    bad = {"Put": {"TableName": "no-such-table", "Item": serialize({"PK": "a", "SK": "X"})}}
    with pytest.raises(ClientError) as error:
        transact_write(dynamodb(), [bad])
    assert error.value.response["Error"]["Code"] in ("ResourceNotFoundException", "TransactionCanceledException")
