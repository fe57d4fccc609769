"""DynamoDB layout of the metrics service (one table) and the only module that knows its keys.

Items (``PK`` / ``SK``):

- ``PAGE#{id}`` / ``META`` - the projection of a registry page (region and institution, for scoping reads).
- ``PAGE#{id}`` / ``DAY#{date}`` and ``REGION#{code}`` / ``DAY#{date}`` - daily counters by activity kind (the
  region's local date).
- ``ACTIVITY#{activity_id}`` / ``SEEN`` - dedupe marker (TTL 14 days), written in the same transaction as the
  counters, so a redelivered event never counts twice.

Reads are Get/Query by key; no Scan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from shared.dynamo import deserialize, is_conditional_failure, serialize, serialize_value
from shared.transactions import ConditionFailed, transact_write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from shared.events import ActivityKind

DEDUPE_TTL_SECONDS = 14 * 86400
_DAY_ATTRIBUTES = frozenset({"PK", "SK", "day"})


@dataclass(frozen=True, slots=True)
class ProjectedPage:
    """What the metrics service knows about a registry page: where it belongs, at which revision."""

    page_id: str
    institution_id: str
    region_code: str
    group_id: int | None
    status: str
    revision: int


@dataclass(frozen=True, slots=True)
class DayCounters:
    """Activity counts of one page or region on one local day."""

    day: date
    counts: dict[str, int]  # by activity kind


def _page_partition(page_id: str) -> str:
    return f"PAGE#{page_id}"


def _region_partition(region_code: str) -> str:
    return f"REGION#{region_code}"


def _day_key(day: date) -> str:
    return f"DAY#{day.isoformat()}"


class MetricsRepository:
    """Activity counters, their dedupe markers and the page projection in one DynamoDB table."""

    def __init__(self, *, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    def count_activity(
        self, *, activity_id: str, page_id: str, region_code: str, day: date, kind: ActivityKind
    ) -> bool:
        """Add one ``kind`` to the page's and the region's counters of ``day``; False if already counted."""
        marker = {"PK": f"ACTIVITY#{activity_id}", "SK": "SEEN", "expires_at": int(time.time()) + DEDUPE_TTL_SECONDS}
        try:
            transact_write(
                self.client,
                [
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": serialize(marker),
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    self._increment(_page_partition(page_id), day=day, kind=kind),
                    self._increment(_region_partition(region_code), day=day, kind=kind),
                ],
            )
        except ConditionFailed:
            return False
        return True

    def _increment(self, partition: str, *, day: date, kind: ActivityKind) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": serialize({"PK": partition, "SK": _day_key(day)}),
                "UpdateExpression": "ADD #kind :one SET #day = :day",
                "ExpressionAttributeNames": {"#kind": kind, "#day": "day"},
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":day": {"S": day.isoformat()}},
            }
        }

    def project_page(self, page: ProjectedPage) -> bool:
        """Store the page unless this or a newer revision is stored; True if applied."""
        item = {
            "PK": _page_partition(page.page_id),
            "SK": "META",
            "institution_id": page.institution_id,
            "region_code": page.region_code,
            "group_id": page.group_id,
            "status": page.status,
            "revision": page.revision,
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=serialize(item),
                ConditionExpression="attribute_not_exists(PK) OR revision < :revision",
                ExpressionAttributeValues={":revision": serialize_value(page.revision)},
            )
        except Exception as error:  # botocore's ClientError; a stale revision is not an error
            if is_conditional_failure(error):
                return False
            raise
        return True

    def get_page(self, page_id: str) -> ProjectedPage | None:
        """The projected page (``None`` if the registry never announced it)."""
        key = serialize({"PK": _page_partition(page_id), "SK": "META"})
        item = self.client.get_item(TableName=self.table, Key=key).get("Item")
        if item is None:
            return None
        data = deserialize(item)
        return ProjectedPage(
            page_id=page_id,
            institution_id=data["institution_id"],
            region_code=data["region_code"],
            group_id=data.get("group_id"),
            status=data["status"],
            revision=data["revision"],
        )

    def page_days(self, *, page_id: str, first_day: date, last_day: date) -> list[DayCounters]:
        """The page's daily counters between two local days, inclusive, oldest first (days without activity absent)."""
        return self._days(_page_partition(page_id), first_day=first_day, last_day=last_day)

    def region_days(self, *, region_code: str, first_day: date, last_day: date) -> list[DayCounters]:
        """The region's daily counters between two local days, inclusive, oldest first."""
        return self._days(_region_partition(region_code), first_day=first_day, last_day=last_day)

    def _days(self, partition: str, *, first_day: date, last_day: date) -> list[DayCounters]:
        days: list[DayCounters] = []
        for page in self.client.get_paginator("query").paginate(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :first AND :last",
            ExpressionAttributeValues={
                ":pk": {"S": partition},
                ":first": {"S": _day_key(first_day)},
                ":last": {"S": _day_key(last_day)},
            },
        ):
            for raw in page.get("Items", []):
                item = deserialize(raw)
                counts = {kind: int(count) for kind, count in item.items() if kind not in _DAY_ATTRIBUTES}
                days.append(DayCounters(day=date.fromisoformat(item["day"]), counts=counts))
        return days
