"""Appeals read API routes (thin: parse, call one service function, return its model)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.appeals import bootstrap, service
from services.appeals.models import Appeal, AppealFilters, AppealKind, AppealPage, AppealStatus
from services.appeals.repository import AppealsRepository
from shared.web import CurrentPrincipal, KnownRegion

router = APIRouter(prefix="/appeals", tags=["appeals"])

Repository = Annotated[AppealsRepository, Depends(bootstrap.repository)]


@router.get("", response_model=AppealPage)
def list_appeals(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Annotated[KnownRegion | None, Query(description="Region code")] = None,
    institution_id: str | None = None,
    page_id: str | None = None,
    status: AppealStatus | None = None,
    kind: AppealKind | None = None,
    rubric: str | None = None,
    overdue: bool | None = None,
    received_from: Annotated[datetime | None, Query(alias="from", description="Received at or after")] = None,
    received_to: Annotated[datetime | None, Query(alias="to", description="Received at or before")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> AppealPage:
    """Appeals in your scope, newest first (federal admins pick a region, institution or page)."""
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
def get_appeal(principal: CurrentPrincipal, repository: Repository, appeal_id: str) -> Appeal:
    """One appeal (404 when it is outside your scope)."""
    return service.get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)
