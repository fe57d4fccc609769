"""Appeals use cases: what a VK event does to the stored appeals (one transaction each), and the scoped reads.

Every write goes through ``AppealsRepository`` with the event's dedupe marker in the same transaction, so a
redelivered event has no second effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.appeals.models import Appeal, AppealFilters, AppealPage, AppealReply, AppealSource, DeletedBy
from services.appeals.repository import Answer, AppealRecord, AppealsRepository, PageRef, SeenEvent, ThreadEntry
from services.appeals.vk import stable_id, vk_time
from shared.auth import Principal, Role
from shared.errors import InvalidInputError, NotFoundError
from shared.regions import get_region


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


def local_time(date: int, region_code: str) -> datetime:
    """A VK timestamp in the region's time zone."""
    return vk_time(date).astimezone(get_region(region_code).zone)


def _seen(page: PageRef, event_id: str, event_type: str) -> SeenEvent:
    return SeenEvent(group_id=page.group_id, event_id=event_id, type=event_type)


# ---------------------------------------------------------------- writes (one transaction per VK event)


def record_appeal(
    *, repository: AppealsRepository, page: PageRef, appeal: NewAppeal, event_id: str, event_type: str
) -> bool:
    """Store a citizen's appeal once per VK event and per natural key; True if it is new."""
    received_at = local_time(appeal.date, page.region_code).isoformat()
    record: AppealRecord = {
        "id": appeal.id,
        "page_id": page.page_id,
        "institution_id": page.institution_id,
        "region_code": page.region_code,
        "source": appeal.source.model_dump(exclude_none=True),
        "author_id": appeal.author_id,
        "text": appeal.text,
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
    """Replace the appeal's text, keeping every version in ``history``; an unseen comment becomes an appeal."""
    event = _seen(page, event_id, event_type)
    outcome = repository.edit_appeal(appeal_id=appeal.id, text=appeal.text, edited_at=edited_at, event=event)
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
    outcome = repository.delete_appeal(appeal_id=appeal_id, by=by, deleted_at=deleted_at, event=event)
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
    event = _seen(page, event_id, event_type)
    outcome = repository.restore_appeal(appeal_id=appeal.id, restored_at=restored_at, event=event)
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
        answered_at=sent_at.astimezone(get_region(page.region_code).zone),
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


# ---------------------------------------------------------------- reads


def get_appeal(*, repository: AppealsRepository, principal: Principal, appeal_id: str) -> Appeal:
    """One appeal inside the caller's scope (404 otherwise)."""
    stored = repository.get_appeal(appeal_id)
    if stored is None:
        raise NotFoundError("appeal not found", field="appeal_id")
    principal.ensure_can_read(region_code=stored["region_code"], institution_id=stored["institution_id"])
    return Appeal.model_validate(stored)


def _scoped_filters(repository: AppealsRepository, principal: Principal, filters: AppealFilters) -> AppealFilters:
    """The filters restricted to the caller's scope: a region, an institution, or both (404 outside it)."""
    region = principal.readable_region(filters.region)
    institution = filters.institution_id
    if principal.role is Role.INSTITUTION_ADMIN:
        if institution not in (None, principal.institution):
            raise NotFoundError(f"institution {institution} is outside your scope", field="institution_id")
        institution = principal.institution
    if filters.page_id is not None:
        page = repository.read_page(filters.page_id)
        if page is None or not principal.can_read(region_code=page.region_code, institution_id=page.institution_id):
            raise NotFoundError(f"page {filters.page_id} not found", field="page_id")
        if institution not in (None, page.institution_id):
            raise NotFoundError(f"page {filters.page_id} is not a page of institution {institution}", field="page_id")
        institution = page.institution_id
    if institution is None and region is None:
        raise InvalidInputError("a federal-wide list needs region, institution_id or page_id", field="region")
    return filters.model_copy(update={"region": region, "institution_id": institution})


def list_appeals(
    *, repository: AppealsRepository, principal: Principal, filters: AppealFilters, limit: int, cursor: str | None
) -> AppealPage:
    """Appeals inside the caller's scope, newest first."""
    found = repository.list_appeals(filters=_scoped_filters(repository, principal, filters), limit=limit, cursor=cursor)
    return AppealPage(items=[Appeal.model_validate(record) for record in found.items], next_cursor=found.next_cursor)
