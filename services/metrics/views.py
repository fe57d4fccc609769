"""Metrics HTTP routes (read-only)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from shared.errors import InvalidInputError
from shared.regions import get_region, is_region
from shared.web import CurrentPrincipal

from . import service
from .models import ActivityReport

router = APIRouter(prefix="/metrics", tags=["metrics"])

FromDay = Annotated[date | None, Query(alias="from", description="first local day (default: 6 days before `to`)")]
ToDay = Annotated[date | None, Query(alias="to", description="last local day (default: today)")]


def _period(first: date | None, last: date | None, *, region_code: str) -> tuple[date, date]:
    today = datetime.now(UTC).astimezone(get_region(region_code).zone).date()
    first_day, last_day = service.default_period(first, last, today=today)
    if first_day > last_day:
        raise InvalidInputError("must not be after 'to'", field="from")
    if (last_day - first_day).days > 366:
        raise InvalidInputError("period longer than 366 days", field="from")
    return first_day, last_day


@router.get("/pages/{page_id}/activity", response_model=ActivityReport)
def page_activity(
    page_id: str, principal: CurrentPrincipal, first: FromDay = None, last: ToDay = None
) -> ActivityReport:
    """Daily posts, reposts, joins, leaves, likes, comments and messages of one page."""
    page = service.get_page(page_id=page_id)
    region_code = str(page["region_code"])
    principal.ensure_can_read(region_code=region_code, institution_id=str(page["institution_id"]))
    first_day, last_day = _period(first, last, region_code=region_code)
    return service.activity_report(partition=f"PAGE#{page_id}", first_day=first_day, last_day=last_day)


@router.get("/regions/{region_code}/activity", response_model=ActivityReport)
def region_activity(
    region_code: str, principal: CurrentPrincipal, first: FromDay = None, last: ToDay = None
) -> ActivityReport:
    """Daily activity summed over every page of a region."""
    if not is_region(region_code):
        raise InvalidInputError(f"unknown region code '{region_code}'", field="region_code")
    principal.readable_region(region_code)
    first_day, last_day = _period(first, last, region_code=region_code)
    return service.activity_report(partition=f"REGION#{region_code}", first_day=first_day, last_day=last_day)
