"""Conditional multi-item writes: the one transaction helper every service's repository uses.

``transact_write`` runs at most 25 items as one ``TransactWriteItems`` (YDB Document API's limit too), retries
``TransactionConflict`` and throttling with jittered backoff, and turns a cancellation into something a service can
act on: ``ConditionFailed`` saying which items' conditions failed, or the domain error the caller mapped to one of
them. A dependency that stays busy becomes ``UnavailableError`` (503: retry later), never a bare 500.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from shared.errors import DomainError, UnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_TRANSACTION_ITEMS = 25
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.02
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
RETRYABLE_ERRORS = frozenset(
    {"TransactionConflictException", "ThrottlingException", "ProvisionedThroughputExceededException"}
)


class ConditionFailed(Exception):
    """The transaction was cancelled because some items' conditions failed; nothing was written."""

    def __init__(self, codes: Sequence[str]) -> None:
        self.codes = tuple(codes)
        super().__init__(f"conditions failed at items {sorted(self.failed_positions) or 'unknown'}")

    @property
    def failed_positions(self) -> frozenset[int]:
        """Indexes of the items whose condition failed (empty if the store gave no per-item reasons)."""
        return frozenset(index for index, code in enumerate(self.codes) if code == "ConditionalCheckFailed")

    def failed(self, index: int) -> bool:
        """True if item ``index``'s condition failed."""
        return index in self.failed_positions


ErrorFor = Mapping[int, DomainError] | Callable[[ConditionFailed], DomainError | None]


def _error_parts(error: Exception) -> tuple[str, list[str]]:
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return "", []
    code = str(response.get("Error", {}).get("Code", ""))
    reasons = [str(reason.get("Code") or "None") for reason in response.get("CancellationReasons") or []]
    return code, reasons


def transact_write(
    client: DynamoDBClient,
    items: Sequence[Mapping[str, Any]],
    *,
    errors: ErrorFor | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> None:
    """Write ``items`` atomically.

    ``errors`` maps an item's index to the domain error its failed condition means (e.g. a uniqueness guard to a
    409 naming the field), or is a function choosing one from the ``ConditionFailed``; unmapped failures raise
    ``ConditionFailed``. Conflicts with concurrent transactions and throttling are retried, then raise
    ``UnavailableError``. Any other error is re-raised as it came.
    """
    if not items:
        return
    if len(items) > MAX_TRANSACTION_ITEMS:
        raise ValueError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} items, got {len(items)}")
    request = cast("list[TransactWriteItemTypeDef]", list(items))
    for attempt in range(max_attempts):
        try:
            client.transact_write_items(TransactItems=request)
            return
        except Exception as error:  # botocore's ClientError; its shape is read below
            code, reasons = _error_parts(error)
            if code == "TransactionCanceledException" and "ConditionalCheckFailed" in reasons:
                failure = ConditionFailed(reasons)
                mapped = _mapped(errors, failure)
                raise (mapped or failure) from error
            retryable = code in RETRYABLE_ERRORS or (
                code == "TransactionCanceledException" and any(reason in RETRYABLE_REASONS for reason in reasons)
            )
            if code == "TransactionCanceledException" and not reasons:
                raise ConditionFailed([]) from error  # a store that gives no reasons: treat as a failed condition
            if not retryable:
                raise
            if attempt + 1 == max_attempts:
                raise UnavailableError("the table is busy with concurrent changes, retry") from error
            time.sleep(BACKOFF_BASE_SECONDS * 2**attempt * (1 + random.random()))


def _mapped(errors: ErrorFor | None, failure: ConditionFailed) -> DomainError | None:
    if errors is None:
        return None
    if callable(errors):
        return errors(failure)
    for index in sorted(failure.failed_positions):
        if index in errors:
            return errors[index]
    return None
