"""Activity counters and the metrics projection of registry pages.

Keys (MetricsTable): ``PAGE#{id}/META`` page projection; ``PAGE#{id}/DAY#{date}`` and ``REGION#{code}/DAY#{date}``
daily counters (local date of the region); ``ACTIVITY#{activity_id}/SEEN`` dedupe marker, written in the same
transaction as the counters so a redelivered event never counts twice. No Scan: reads are Get/Query by key.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING

from shared.aws import dynamodb
from shared.config import get_settings
from shared.dynamo import deserialize, is_conditional_failure, serialize, serialize_value
from shared.errors import NotFoundError
from shared.events import ActivityKind, ActivityRecorded, PageArchived, PageUpserted
from shared.regions import get_region

from .models import ActivityReport, DailyActivity

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

DEDUPE_TTL_SECONDS = 14 * 86400


def _counter_update(*, table: str, pk: str, day: date, kind: ActivityKind) -> TransactWriteItemTypeDef:
    return {
        "Update": {
            "TableName": table,
            "Key": serialize({"PK": pk, "SK": f"DAY#{day.isoformat()}"}),
            "UpdateExpression": "ADD #kind :one SET #day = :day",
            "ExpressionAttributeNames": {"#kind": kind, "#day": "day"},
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":day": {"S": day.isoformat()}},
        }
    }


def record_activity(*, activity: ActivityRecorded) -> bool:
    """Count one activity event once; False if it was already counted."""
    table = get_settings().metrics_table
    local_day = activity.occurred_at.astimezone(get_region(activity.region_code).zone).date()
    marker = {
        "PK": f"ACTIVITY#{activity.activity_id}",
        "SK": "SEEN",
        "expires_at": int(time.time()) + DEDUPE_TTL_SECONDS,
    }
    try:
        dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": serialize(marker),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                _counter_update(table=table, pk=f"PAGE#{activity.page_id}", day=local_day, kind=activity.kind),
                _counter_update(table=table, pk=f"REGION#{activity.region_code}", day=local_day, kind=activity.kind),
            ]
        )
    except Exception as error:
        if is_conditional_failure(error):
            return False
        raise
    return True


def apply_page(*, page: PageUpserted | PageArchived) -> bool:
    """Keep the page's region and institution (for scoping reads) if this revision is newer."""
    item = {
        "PK": f"PAGE#{page.page_id}",
        "SK": "META",
        "institution_id": page.institution_id,
        "region_code": page.region_code,
        "group_id": page.group_id,
        "status": "archived" if isinstance(page, PageArchived) else page.status,
        "revision": page.revision,
    }
    try:
        dynamodb().put_item(
            TableName=get_settings().metrics_table,
            Item=serialize(item),
            ConditionExpression="attribute_not_exists(PK) OR revision < :revision",
            ExpressionAttributeValues={":revision": serialize_value(page.revision)},
        )
    except Exception as error:
        if is_conditional_failure(error):
            return False
        raise
    return True


def get_page(*, page_id: str) -> dict[str, object]:
    """The projected page (``NotFoundError`` if the registry never announced it)."""
    response = dynamodb().get_item(
        TableName=get_settings().metrics_table, Key=serialize({"PK": f"PAGE#{page_id}", "SK": "META"})
    )
    if "Item" not in response:
        raise NotFoundError("not found", field="page_id")
    return deserialize(response["Item"])


def activity_report(*, partition: str, first_day: date, last_day: date) -> ActivityReport:
    """Daily counters of ``PAGE#id`` or ``REGION#code`` between two local days, inclusive."""
    paginator = dynamodb().get_paginator("query")
    days: list[DailyActivity] = []
    totals: Counter[str] = Counter()
    for page in paginator.paginate(
        TableName=get_settings().metrics_table,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :first AND :last",
        ExpressionAttributeValues={
            ":pk": {"S": partition},
            ":first": {"S": f"DAY#{first_day.isoformat()}"},
            ":last": {"S": f"DAY#{last_day.isoformat()}"},
        },
    ):
        for raw in page.get("Items", []):
            item = deserialize(raw)
            counts = {k: int(v) for k, v in item.items() if k not in ("PK", "SK", "day")}
            totals.update(counts)
            days.append(DailyActivity.model_validate({"day": item["day"], "counts": counts}))
    scope = partition.replace("PAGE#", "page:").replace("REGION#", "region:")
    return ActivityReport.model_validate({"scope": scope, "days": days, "totals": dict(totals)})


def default_period(first_day: date | None, last_day: date | None, *, today: date) -> tuple[date, date]:
    """The requested period, defaulting to the last 7 days."""
    last = last_day or today
    return first_day or last - timedelta(days=6), last
