"""Appeals use cases: what a VK event does to the stored appeals (one transaction each), and the scoped reads.

Every write goes through ``AppealsRepository`` with the event's dedupe marker in the same transaction, so a
redelivered event has no second effect. Instants are stored in the region's zone; answers carry every instant in
the region's zone with its offset (``shared.timeparams.iso``), whatever convention older stored values used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.appeals.models import Appeal, AppealFilters, AppealPage, AppealReply, AppealSource, DeletedBy
from services.appeals.repository import (
    Answer,
    AppealQuery,
    AppealRecord,
    AppealsRepository,
    AttachmentRecord,
    PageRef,
    SeenEvent,
    ThreadEntry,
)
from services.appeals.vk import stable_id, vk_time
from shared.auth import Principal, Role
from shared.errors import ForbiddenError, InvalidInputError, NotFoundError
from shared.regions import get_region
from shared.timeparams import instant_range, iso

PORTAL_REFUSAL = (
    "portal clients may not read appeals: they hold citizens' texts and VK ids (personal data, 152-FZ); "
    "read activity counts through /metrics"
)


class AnswerConflictError(Exception):
    """The target appeal was answered concurrently; the record is retried and picks the next one."""


@dataclass(frozen=True, slots=True)
class NewAppeal:
    """A citizen's comment or message, ready to be stored."""

    natural_key: str
    thread: str
    root: int | None
    source: AppealSource
    author_id: int
    text: str
    date: int
    attachments: list[AttachmentRecord] = field(default_factory=list)

    @property
    def id(self) -> str:
        return stable_id(self.natural_key)


@dataclass(frozen=True, slots=True)
class CommunityReply:
    """The community's own comment or message that may answer an appeal."""

    natural_key: str
    thread: str
    reply_to: str | None
    root: int | None
    reply: AppealReply


def _local_time(moment: datetime, region_code: str) -> datetime:
    """An instant in the region's time zone."""
    return moment.astimezone(get_region(region_code).zone)


def _seen(page: PageRef, event_id: str, event_type: str) -> SeenEvent:
    return SeenEvent(group_id=page.group_id, event_id=event_id, type=event_type)


# ---------------------------------------------------------------- writes (one transaction per VK event)


def record_appeal(
    *, repository: AppealsRepository, page: PageRef, appeal: NewAppeal, event_id: str, event_type: str
) -> bool:
    """Store a citizen's appeal once per VK event and per natural key; True if it is new."""
    received_at = iso(vk_time(appeal.date), zone=get_region(page.region_code).zone)
    record: AppealRecord = {
        "id": appeal.id,
        "page_id": page.page_id,
        "institution_id": page.institution_id,
        "region_code": page.region_code,
        "source": appeal.source.model_dump(exclude_none=True),
        "author_id": appeal.author_id,
        "text": appeal.text,
        "attachments": appeal.attachments,
        "received_at": received_at,
        "vk_date": appeal.date,
        "status": "new",
        "kind": "appeal",
        "deleted": False,
        "history": [{"action": "created", "at": received_at, "text": appeal.text}],
        "event_id": event_id,
        "thread": appeal.thread,
    }
    return repository.record_appeal(appeal=record, root=appeal.root, event=_seen(page, event_id, event_type))


def edit_appeal(
    *,
    repository: AppealsRepository,
    page: PageRef,
    appeal: NewAppeal,
    event_id: str,
    event_type: str,
    edited_at: datetime,
) -> bool:
    """Replace the appeal's text and attachments, keeping every text version in ``history``.

    An edit of a comment or message never seen before creates the appeal.
    """
    outcome = repository.edit_appeal(
        appeal_id=appeal.id,
        text=appeal.text,
        attachments=appeal.attachments,
        edited_at=_local_time(edited_at, page.region_code),
        event=_seen(page, event_id, event_type),
    )
    if outcome == "no_appeal":
        return record_appeal(repository=repository, page=page, appeal=appeal, event_id=event_id, event_type=event_type)
    return outcome == "applied"


def delete_appeal(
    *,
    repository: AppealsRepository,
    page: PageRef,
    appeal_id: str,
    deleter_id: int | None,
    event_id: str,
    event_type: str,
    deleted_at: datetime,
) -> bool:
    """Mark the appeal deleted, by its author or by the community (an admin or the community itself)."""
    event = _seen(page, event_id, event_type)
    stored = repository.get_appeal(appeal_id)
    if stored is None:
        repository.acknowledge_event(event)
        return False
    by: DeletedBy = "author" if deleter_id is not None and deleter_id == stored["author_id"] else "community"
    outcome = repository.delete_appeal(
        appeal_id=appeal_id, by=by, deleted_at=_local_time(deleted_at, page.region_code), event=event
    )
    return outcome == "applied"


def restore_appeal(
    *,
    repository: AppealsRepository,
    page: PageRef,
    appeal: NewAppeal,
    event_id: str,
    event_type: str,
    restored_at: datetime,
) -> bool:
    """Undo a deletion; a restored comment never seen before becomes an appeal."""
    outcome = repository.restore_appeal(
        appeal_id=appeal.id,
        restored_at=_local_time(restored_at, page.region_code),
        event=_seen(page, event_id, event_type),
    )
    if outcome == "no_appeal":
        return record_appeal(repository=repository, page=page, appeal=appeal, event_id=event_id, event_type=event_type)
    return outcome == "applied"


def _answer_target(repository: AppealsRepository, reply: CommunityReply) -> ThreadEntry | None:
    """The appeal the reply answers: the replied-to appeal if unanswered, else the earliest unanswered one."""
    if reply.reply_to is not None:
        replied = repository.get_appeal(stable_id(reply.reply_to))
        if replied is not None:
            if replied.get("first_response_at"):
                return None
            return ThreadEntry(thread=reply.thread, appeal_id=replied["id"], date=replied["vk_date"])
    return repository.earliest_unanswered(thread=reply.thread, root=reply.root)


def _answer(page: PageRef, reply: CommunityReply, target: ThreadEntry) -> Answer:
    sent_at = reply.reply.sent_at
    return Answer(
        target=target,
        answered_at=_local_time(sent_at, page.region_code),
        reply=reply.reply,
        elapsed_minutes=max(0, int(sent_at.timestamp()) - target.date) // 60,
    )


def answer_appeal(
    *, repository: AppealsRepository, page: PageRef, reply: CommunityReply, event_id: str, event_type: str
) -> str | None:
    """Mark the appeal a community reply answers (first response only); the appeal id, or None if none."""
    target = _answer_target(repository, reply)
    outcome = repository.answer_appeal(
        reply_id=stable_id(reply.natural_key),
        answer=_answer(page, reply, target) if target is not None else None,
        event=_seen(page, event_id, event_type),
    )
    if outcome == "answered_concurrently":
        raise AnswerConflictError("the appeal was answered concurrently")
    return target.appeal_id if target is not None and outcome == "applied" else None


def reject_event(*, repository: AppealsRepository, page: PageRef, event_id: str, event_type: str, reason: str) -> None:
    """Record a VK event this service cannot use, with the reason, so it is acknowledged once and not retried."""
    repository.reject_event(_seen(page, event_id, event_type), reason=reason)


# ---------------------------------------------------------------- reads


def _ensure_reads_appeals(principal: Principal) -> None:
    """Portals never get a citizen's text or VK id (152-ФЗ): 403 saying where their figures are."""
    if principal.role is Role.PORTAL:
        raise ForbiddenError(PORTAL_REFUSAL)


def _localized(record: AppealRecord) -> Appeal:
    """The API view of a stored appeal: every instant in the region's zone with its offset, to the second."""
    zone = get_region(record["region_code"]).zone

    def local(value: Any) -> Any:
        return iso(datetime.fromisoformat(value), zone=zone) if isinstance(value, str) else value

    data: dict[str, Any] = dict(record)
    for name in ("received_at", "first_response_at", "due_at"):
        if name in data:
            data[name] = local(data[name])
    if isinstance(data.get("reply"), dict):
        data["reply"] = {**data["reply"], "sent_at": local(data["reply"].get("sent_at"))}
    data["history"] = [{**entry, "at": local(entry.get("at"))} for entry in data.get("history", [])]
    return Appeal.model_validate(data)


def get_appeal(*, repository: AppealsRepository, principal: Principal, appeal_id: str) -> Appeal:
    """One appeal inside the caller's scope (404 otherwise; 403 for portals)."""
    _ensure_reads_appeals(principal)
    stored = repository.get_appeal(appeal_id)
    if stored is None:
        raise NotFoundError("appeal not found", field="appeal_id")
    principal.ensure_can_read(region_code=stored["region_code"], institution_id=stored["institution_id"])
    return _localized(stored)


def _institution_region(
    repository: AppealsRepository, principal: Principal, institution_id: str, region: str | None
) -> str:
    """The region of an institution inside the caller's scope (and the requested region), else 404."""
    institution = repository.read_institution(institution_id)
    if (
        institution is None
        or not principal.can_read(region_code=institution["region_code"], institution_id=institution_id)
        or region not in (None, institution["region_code"])
    ):
        raise NotFoundError(f"institution {institution_id} not found", field="institution_id")
    return institution["region_code"]


def _scoped_query(repository: AppealsRepository, principal: Principal, filters: AppealFilters) -> AppealQuery:
    """The list the caller may see: of a region, an institution or a page inside its scope (404 outside it)."""
    _ensure_reads_appeals(principal)
    region = principal.readable_region(filters.region)
    institution = filters.institution_id
    if principal.role is Role.INSTITUTION_ADMIN:
        if institution not in (None, principal.institution):
            raise NotFoundError(f"institution {institution} is outside your scope", field="institution_id")
        institution = principal.institution
    elif institution is not None:
        region = _institution_region(repository, principal, institution, region)
    if filters.page_id is not None:
        page = repository.read_page(filters.page_id)
        if page is None or not principal.can_read(region_code=page.region_code, institution_id=page.institution_id):
            raise NotFoundError(f"page {filters.page_id} not found", field="page_id")
        if institution not in (None, page.institution_id) or region not in (None, page.region_code):
            raise NotFoundError(f"page {filters.page_id} is not a page of the institution or region", field="page_id")
        institution, region = page.institution_id, page.region_code
    if region is None:
        raise InvalidInputError("a federal-wide list needs region, institution_id or page_id", field="region")
    received_from, received_to = instant_range(filters.received_from, filters.received_to, zone=get_region(region).zone)
    return {
        "region_code": region,
        "institution_id": institution,
        "page_id": filters.page_id,
        "status": filters.status,
        "kind": filters.kind,
        "rubric": filters.rubric,
        "overdue": filters.overdue,
        "received_from": received_from,
        "received_to": received_to,
    }


def list_appeals(
    *, repository: AppealsRepository, principal: Principal, filters: AppealFilters, limit: int, cursor: str | None
) -> AppealPage:
    """Appeals inside the caller's scope, newest first (403 for portals)."""
    found = repository.list_appeals(query=_scoped_query(repository, principal, filters), limit=limit, cursor=cursor)
    return AppealPage(items=[_localized(record) for record in found.items], next_cursor=found.next_cursor)
