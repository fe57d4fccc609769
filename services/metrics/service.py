"""Metrics use cases: count activity once in the region's local day, keep the page projection, scoped reports."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from shared.errors import ForbiddenError, NotFoundError
from shared.events import ActivityRecorded, PageArchived, PageUpserted
from shared.regions import get_region
from shared.timeparams import day_range

from .models import ActivityReport
from .repository import DayCounters, MetricsRepository, ProjectedPage

if TYPE_CHECKING:
    from shared.auth import Principal

DEFAULT_PERIOD_DAYS = 7
MAX_PERIOD_DAYS = 366


def record_activity(*, repository: MetricsRepository, activity: ActivityRecorded) -> bool:
    """Count one activity event once; False if it was already counted."""
    local_day = activity.occurred_at.astimezone(get_region(activity.region_code).zone).date()
    return repository.count_activity(
        activity_id=activity.activity_id,
        page_id=activity.page_id,
        region_code=activity.region_code,
        day=local_day,
        kind=activity.kind,
    )


def apply_page(*, repository: MetricsRepository, page: PageUpserted | PageArchived) -> bool:
    """Keep the page's region and institution (for scoping reads) if this revision is newer."""
    projected = ProjectedPage(
        page_id=page.page_id,
        institution_id=page.institution_id,
        region_code=page.region_code,
        group_id=page.group_id,
        status="archived" if isinstance(page, PageArchived) else page.status,
        revision=page.revision,
    )
    return repository.project_page(projected)


def _period(first_day: date | None, last_day: date | None, *, region_code: str) -> tuple[date, date]:
    """The requested local days, by default the last 7 up to today in the region (422 if reversed or too long)."""
    today = datetime.now(UTC).astimezone(get_region(region_code).zone).date()
    return day_range(first_day, last_day, today=today, default_days=DEFAULT_PERIOD_DAYS, max_days=MAX_PERIOD_DAYS)


def _report(scope: str, days: list[DayCounters]) -> ActivityReport:
    totals: Counter[str] = Counter()
    for day in days:
        totals.update(day.counts)
    return ActivityReport.model_validate(
        {"scope": scope, "days": [{"day": day.day, "counts": day.counts} for day in days], "totals": dict(totals)}
    )


def page_activity(
    *,
    repository: MetricsRepository,
    principal: Principal,
    page_id: str,
    first_day: date | None,
    last_day: date | None,
) -> ActivityReport:
    """Daily activity of one page inside the caller's scope (404 otherwise)."""
    page = repository.get_page(page_id)
    if page is None:
        raise NotFoundError("not found", field="page_id")
    principal.ensure_can_read(region_code=page.region_code, institution_id=page.institution_id)
    first, last = _period(first_day, last_day, region_code=page.region_code)
    return _report(f"page:{page_id}", repository.page_days(page_id=page_id, first_day=first, last_day=last))


def region_activity(
    *,
    repository: MetricsRepository,
    principal: Principal,
    region_code: str,
    first_day: date | None,
    last_day: date | None,
) -> ActivityReport:
    """Daily activity summed over every page of a region: 404 for another region, 403 for an institution admin."""
    try:
        principal.region_wide_scope(region_code)
    except ForbiddenError as error:
        raise ForbiddenError(f"{principal.role.value} may not read region metrics: {error.message}") from None
    first, last = _period(first_day, last_day, region_code=region_code)
    return _report(
        f"region:{region_code}", repository.region_days(region_code=region_code, first_day=first, last_day=last)
    )
