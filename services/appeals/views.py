"""Appeals read API routes (thin: parse, call one service function, return its model)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.appeals import bootstrap, service
from services.appeals.models import Appeal, AppealFilters, AppealKind, AppealPage, AppealStatus
from services.appeals.repository import AppealsRepository
from shared.timeparams import QueryInstant
from shared.web import CurrentPrincipal, KnownRegion

router = APIRouter(prefix="/appeals", tags=["appeals"])

Repository = Annotated[AppealsRepository, Depends(bootstrap.repository)]
RECORD_ID = r"^[A-Za-z0-9_-]{1,64}$"
"""Appeal, page and institution ids (UUIDs, hex or slugs): anything else never reaches a table key."""


@router.get("", response_model=AppealPage)
def list_appeals(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Annotated[KnownRegion | None, Query(description="Region code")] = None,
    institution_id: Annotated[str | None, Query(pattern=RECORD_ID)] = None,
    page_id: Annotated[str | None, Query(pattern=RECORD_ID)] = None,
    status: AppealStatus | None = None,
    kind: AppealKind | None = None,
    rubric: str | None = None,
    overdue: bool | None = None,
    received_from: Annotated[
        QueryInstant | None, Query(alias="from", description="Received at or after (a day: from its start)")
    ] = None,
    received_to: Annotated[
        QueryInstant | None, Query(alias="to", description="Received at or before (a day: up to its end)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> AppealPage:
    """Appeals in your scope, newest first (federal admins pick a region, institution or page; portals: 403).

    Days and instants without an offset are read in the region's time zone.
    """
    filters = AppealFilters(
        region=region,
        institution_id=institution_id,
        page_id=page_id,
        status=status,
        kind=kind,
        rubric=rubric,
        overdue=overdue,
        received_from=received_from,
        received_to=received_to,
    )
    return service.list_appeals(repository=repository, principal=principal, filters=filters, limit=limit, cursor=cursor)


@router.get("/{appeal_id}", response_model=Appeal)
def get_appeal(
    principal: CurrentPrincipal, repository: Repository, appeal_id: Annotated[str, Path(pattern=RECORD_ID)]
) -> Appeal:
    """One appeal (404 when it is outside your scope; portals: 403)."""
    return service.get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)
