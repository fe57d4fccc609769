"""Metrics HTTP routes (read-only; thin: parse, call one service function)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from shared.timeparams import QueryDate
from shared.web import CurrentPrincipal, KnownRegion

from . import bootstrap, service
from .models import ActivityReport
from .repository import MetricsRepository

router = APIRouter(prefix="/metrics", tags=["metrics"])

Repository = Annotated[MetricsRepository, Depends(bootstrap.repository)]
FromDay = Annotated[QueryDate | None, Query(alias="from", description="first local day (default: 6 days before `to`)")]
ToDay = Annotated[QueryDate | None, Query(alias="to", description="last local day, included (default: today)")]
PageId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="registry page id")]


@router.get("/pages/{page_id}/activity", response_model=ActivityReport)
def page_activity(
    page_id: PageId, principal: CurrentPrincipal, repository: Repository, first: FromDay = None, last: ToDay = None
) -> ActivityReport:
    """Daily posts, reposts, joins, leaves, likes, comments and messages of one page."""
    return service.page_activity(
        repository=repository, principal=principal, page_id=page_id, first_day=first, last_day=last
    )


@router.get("/regions/{region_code}/activity", response_model=ActivityReport)
def region_activity(
    region_code: KnownRegion,
    principal: CurrentPrincipal,
    repository: Repository,
    first: FromDay = None,
    last: ToDay = None,
) -> ActivityReport:
    """Daily activity summed over every page of a region (regional roles; an institution admin gets 403)."""
    return service.region_activity(
        repository=repository, principal=principal, region_code=region_code, first_day=first, last_day=last
    )
