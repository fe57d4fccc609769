"""Appeals API routes (thin: parse, call one service function, return its model)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from services.appeals import bootstrap, service, workflow
from services.appeals.lifecycle import AppealStatus
from services.appeals.models import (
    Appeal,
    AppealCorrection,
    AppealFilters,
    AppealKind,
    AppealPage,
    AppealPriority,
    AppealRubric,
    AppealSort,
    Assignment,
    Deadline,
    DeadlinePolicy,
    DeadlinePolicyUpdate,
    Extension,
    Registration,
    ReplyAccepted,
    ReplyRequest,
    StatusChange,
    TriageStats,
)
from services.appeals.repository import AppealsRepository
from shared.aws import secrets
from shared.config import get_settings
from shared.timeparams import QueryDate, QueryInstant
from shared.web import CurrentPrincipal, KnownRegion

router = APIRouter(prefix="/appeals", tags=["appeals"])

Repository = Annotated[AppealsRepository, Depends(bootstrap.repository)]
NDJSON = "application/x-ndjson"
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
    rubric: AppealRubric | None = None,
    priority: AppealPriority | None = None,
    overdue: bool | None = None,
    assigned_institution: Annotated[str | None, Query(pattern=RECORD_ID, description="Forwarded to")] = None,
    due_before: Annotated[QueryInstant | None, Query(description="Open appeals due before (a day: its start)")] = None,
    sort: Annotated[AppealSort, Query(description="due_at: open appeals, most urgent first")] = "received_at",
    received_from: Annotated[
        QueryInstant | None, Query(alias="from", description="Received at or after (a day: from its start)")
    ] = None,
    received_to: Annotated[
        QueryInstant | None, Query(alias="to", description="Received at or before (a day: up to its end)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: str | None = None,
) -> AppealPage:
    """Appeals in your scope, newest first (federal admins pick a region, institution or page, or list nationally
    by ``status`` or ``overdue=true``; portals: 403).

    ``sort=due_at``, ``due_before`` and ``overdue=true`` list open appeals by their running deadline, most urgent
    first (the work queue).

    Every kind is listed unless ``kind`` narrows it (non-appeals have status ``no_action``); ``rubric`` and
    ``priority`` narrow it further. Days and instants without an offset are read in the region's time zone.
    """
    filters = AppealFilters(
        region=region,
        institution_id=institution_id,
        page_id=page_id,
        status=status,
        kind=kind,
        rubric=rubric,
        priority=priority,
        overdue=overdue,
        assigned_institution=assigned_institution,
        due_before=due_before,
        sort=sort,
        received_from=received_from,
        received_to=received_to,
    )
    return service.list_appeals(repository=repository, principal=principal, filters=filters, limit=limit, cursor=cursor)


@router.get("/labels/export", response_class=StreamingResponse, responses={200: {"content": {NDJSON: {}}}})
def export_labels(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Annotated[KnownRegion | None, Query(description="Region code (federal admins)")] = None,
    since: Annotated[QueryInstant | None, Query(description="Corrected at or after (a day: from its start)")] = None,
) -> StreamingResponse:
    """Operator-corrected appeals as JSON lines for ``make train-triage LABELS=...`` (regional and federal admins).

    Each line: ``text``, the final ``kind``, ``rubric``, ``priority``, ``obscene``, ``source``, ``corrected_at``
    and the classifier's labels under ``model``; no author, VK or appeal ids.
    """
    lines = service.export_labels(repository=repository, principal=principal, region=region, since=since)
    return StreamingResponse(lines, media_type=NDJSON)


@router.get("/triage/stats", response_model=TriageStats)
def triage_stats(
    principal: CurrentPrincipal,
    repository: Repository,
    region: Annotated[KnownRegion | None, Query(description="Region code (federal admins)")] = None,
    first: Annotated[QueryDate | None, Query(alias="from", description="First local day (default: 30 days)")] = None,
    last: Annotated[QueryDate | None, Query(alias="to", description="Last local day (default: today)")] = None,
) -> TriageStats:
    """Per class of kind, rubric and priority: appeals the classifier assigned, operator corrections from and to.

    Operators and regional admins of the region, federal admins (who name the region); others 403.
    """
    return service.triage_stats(repository=repository, principal=principal, region=region, first=first, last=last)


@router.get("/policies/{region_code}", response_model=DeadlinePolicy)
def get_policy(principal: CurrentPrincipal, repository: Repository, region_code: KnownRegion) -> DeadlinePolicy:
    """The region's answer deadlines and notification webhook (every role of the region; the secret never shows)."""
    return workflow.get_policy(repository=repository, principal=principal, region_code=region_code)


@router.put("/policies/{region_code}", response_model=DeadlinePolicy)
def put_policy(
    principal: CurrentPrincipal, repository: Repository, region_code: KnownRegion, update: DeadlinePolicyUpdate
) -> DeadlinePolicy:
    """Set the region's deadlines (working or calendar hours, final days, its own days off) and its webhook
    (regional admins of the region, federal admins)."""
    return workflow.put_policy(
        repository=repository,
        principal=principal,
        region_code=region_code,
        update=update,
        secrets=secrets,
        stack_name=get_settings().stack_name,
    )


@router.get("/policies/{region_code}/deadline", response_model=Deadline)
def get_deadline(
    principal: CurrentPrincipal,
    repository: Repository,
    region_code: KnownRegion,
    received_at: Annotated[QueryInstant, Query(description="When the message was written (ISO 8601)")],
    institution_id: Annotated[
        str | None,
        Query(pattern=RECORD_ID, description="Count in this institution's own time zone, if it keeps one"),
    ] = None,
) -> Deadline:
    """When a message received at ``received_at`` must be answered under the region's policy (portals too)."""
    return workflow.deadline(
        repository=repository,
        principal=principal,
        region_code=region_code,
        received_at=received_at,
        institution_id=institution_id,
    )


@router.get("/{appeal_id}", response_model=Appeal)
def get_appeal(
    principal: CurrentPrincipal, repository: Repository, appeal_id: Annotated[str, Path(pattern=RECORD_ID)]
) -> Appeal:
    """One appeal (404 when it is outside your scope; portals: 403)."""
    return service.get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)


@router.patch("/{appeal_id}", response_model=Appeal)
def correct_appeal(
    principal: CurrentPrincipal,
    repository: Repository,
    appeal_id: Annotated[str, Path(pattern=RECORD_ID)],
    correction: AppealCorrection,
) -> Appeal:
    """Correct kind, rubric or priority (operators and regional admins of the region, federal admins).

    Recorded in the history with who, when, old and new labels; a kind other than ``appeal`` sets ``no_action``,
    ``appeal`` reopens it (``new``, or ``answered`` once replied). Institution admins and portals: 403.
    """
    return service.correct_appeal(
        repository=repository, principal=principal, appeal_id=appeal_id, correction=correction
    )


@router.post("/{appeal_id}/status", response_model=Appeal)
def transition_appeal(
    principal: CurrentPrincipal,
    repository: Repository,
    appeal_id: Annotated[str, Path(pattern=RECORD_ID)],
    change: StatusChange,
) -> Appeal:
    """A lifecycle action (``take``, ``close``, ``escalate``, ``dismiss``, ``restore``, ``reopen``, ...) or the
    status wanted; 409 naming the current status when the lifecycle does not allow it. Recorded in the history."""
    return service.transition_appeal(
        repository=repository,
        principal=principal,
        appeal_id=appeal_id,
        change=change,
        publish=bootstrap.publish_effects,
    )


@router.post("/{appeal_id}/assign", response_model=Appeal)
def assign_appeal(
    principal: CurrentPrincipal,
    repository: Repository,
    appeal_id: Annotated[str, Path(pattern=RECORD_ID)],
    assignment: Assignment,
) -> Appeal:
    """Forward the appeal to an institution of its region (status ``forwarded``; the deadline runs on)."""
    return service.assign_appeal(repository=repository, principal=principal, appeal_id=appeal_id, assignment=assignment)


@router.post("/{appeal_id}/registration", response_model=Appeal)
def register_appeal(
    principal: CurrentPrincipal,
    repository: Repository,
    appeal_id: Annotated[str, Path(pattern=RECORD_ID)],
    registration: Registration,
) -> Appeal:
    """Record the 59-ФЗ registration of an escalated appeal (due 3 days after the escalation): its answer is then
    due 30 days after the registration. 409 for an appeal that is not escalated or is registered under another
    number."""
    return service.register_appeal(
        repository=repository, principal=principal, appeal_id=appeal_id, registration=registration
    )


@router.post("/{appeal_id}/extension", response_model=Appeal)
def extend_appeal(
    principal: CurrentPrincipal,
    repository: Repository,
    appeal_id: Annotated[str, Path(pattern=RECORD_ID)],
    extension: Extension,
) -> Appeal:
    """Extend a registered 59-ФЗ appeal's answer deadline once, by 1-30 days, before it ends; ``notice`` is sent
    to the citizen where they wrote. 409 for a second extension, a passed deadline or an unregistered appeal."""
    return service.extend_appeal(
        repository=repository,
        principal=principal,
        appeal_id=appeal_id,
        extension=extension,
        enqueue=bootstrap.enqueue_reply,
    )


@router.post("/{appeal_id}/reply", response_model=ReplyAccepted, status_code=202)
def reply_to_appeal(
    principal: CurrentPrincipal,
    repository: Repository,
    appeal_id: Annotated[str, Path(pattern=RECORD_ID)],
    request: ReplyRequest,
) -> ReplyAccepted:
    """Send an answer to VK where the citizen wrote (queued; its state shows on the appeal's ``replies``)."""
    return service.reply_to_appeal(
        repository=repository,
        principal=principal,
        appeal_id=appeal_id,
        request=request,
        enqueue=bootstrap.enqueue_reply,
    )
