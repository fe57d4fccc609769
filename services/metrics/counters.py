"""What each counted event adds to its page's counters on its local day (pure functions, no I/O).

Counters are plain numbers, additive across pages and days, so every rollup is a sum: activity by kind, appeals
new / answered / answered within SLA / overdue / closed, by rubric (``rubric:<name>``), response working minutes
(sum, count and a histogram for medians) and answer quality (sum and count). Only appeals labelled ``appeal``
count as appeals; gratitude, spam and abuse do not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from shared.events import ActivityRecorded, AppealAnswered, AppealClosed, AppealCreated, AppealOverdue, Payload
from shared.regions import get_region

RESPONSE_BUCKETS = (60, 180, 540, 1440)
"""Upper bounds (working minutes) of the response histogram; one more bucket holds the slower answers."""
RUBRIC_PREFIX = "rubric:"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One event's counters on its page's local day; ``dedupe_id`` keeps it from counting twice."""

    dedupe_id: str
    page_id: str
    region_code: str
    day: date
    deltas: Mapping[str, int]


def bucket_name(minutes: int) -> str:
    """The histogram counter a response time falls in."""
    for bound in RESPONSE_BUCKETS:
        if minutes <= bound:
            return f"resp_le_{bound}"
    return f"resp_gt_{RESPONSE_BUCKETS[-1]}"


def local_day(moment: datetime, region_code: str) -> date:
    """The region's local calendar day of an instant."""
    return moment.astimezone(get_region(region_code).zone).date()


def _answered(event: AppealAnswered) -> dict[str, int]:
    deltas = {"appeals_answered": 1, "appeals_in_sla": int(bool(event.answered_within_sla))}
    if event.response_working_minutes is not None:
        deltas |= {
            "response_minutes_sum": event.response_working_minutes,
            "response_count": 1,
            bucket_name(event.response_working_minutes): 1,
        }
    if event.answer_quality_score is not None:
        deltas |= {"quality_sum": event.answer_quality_score, "quality_count": 1}
    return deltas


def contribution(payload: Payload) -> Contribution | None:
    """The counters an event adds, or ``None`` if metrics does not count it."""
    if isinstance(payload, ActivityRecorded):
        return Contribution(
            dedupe_id=payload.activity_id,
            page_id=payload.page_id,
            region_code=payload.region_code,
            day=local_day(payload.occurred_at, payload.region_code),
            deltas={payload.kind: 1},
        )
    if (
        not isinstance(payload, AppealCreated | AppealAnswered | AppealOverdue | AppealClosed)
        or payload.kind != "appeal"
    ):
        return None
    if isinstance(payload, AppealAnswered):
        moment, deltas = payload.answered_at, _answered(payload)
    elif isinstance(payload, AppealOverdue):
        moment, deltas = payload.due_at, {"appeals_overdue": 1}
    elif isinstance(payload, AppealClosed):
        moment, deltas = payload.closed_at, {"appeals_closed": 1}
    else:
        moment, deltas = payload.received_at, {"appeals_new": 1}
        if payload.rubric:
            deltas[RUBRIC_PREFIX + payload.rubric] = 1
    return Contribution(
        dedupe_id=payload.change_id,
        page_id=payload.page_id,
        region_code=payload.region_code,
        day=local_day(moment, payload.region_code),
        deltas=deltas,
    )


def summed(contributions: list[Contribution]) -> dict[str, int]:
    """The counters of several contributions added up."""
    total: Counter[str] = Counter()
    for item in contributions:
        total.update(item.deltas)
    return dict(total)


def median_response(counts: Mapping[str, int]) -> int | None:
    """The median response time in working minutes, to the histogram's bucket bound (``None`` without answers)."""
    buckets = [(bound, counts.get(f"resp_le_{bound}", 0)) for bound in RESPONSE_BUCKETS]
    buckets.append((RESPONSE_BUCKETS[-1] * 2, counts.get(f"resp_gt_{RESPONSE_BUCKETS[-1]}", 0)))
    total = sum(count for _, count in buckets)
    if not total:
        return None
    seen = 0
    for bound, count in buckets:
        seen += count
        if seen * 2 >= total:
            return bound
    return buckets[-1][0]


def top_rubrics(counts: Mapping[str, int], limit: int = 3) -> list[tuple[str, int]]:
    """The most frequent rubrics of new appeals, most frequent first."""
    rubrics = [
        (name.removeprefix(RUBRIC_PREFIX), count) for name, count in counts.items() if name.startswith(RUBRIC_PREFIX)
    ]
    return sorted(rubrics, key=lambda pair: (-pair[1], pair[0]))[:limit]
