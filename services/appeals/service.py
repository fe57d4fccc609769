"""Appeals use cases: what a VK event does to the stored appeals (one transaction each), corrections, scoped reads.

Every write goes through ``AppealsRepository`` with the event's dedupe marker in the same transaction, so a
redelivered event has no second effect. Every citizen text is classified (``services.appeals.triage``, loaded on
its first use): an appeal is ``new``, any other kind ``no_action``. Instants are stored in the region's zone;
answers carry every instant in the region's zone with its offset (``shared.timeparams.iso``), whatever convention
older stored values used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo

from services.appeals import triage, workflow
from services.appeals.lifecycle import OPEN_STATUSES, AppealStatus, IllegalTransitionError, allowed_actions
from services.appeals.models import (
    Appeal,
    AppealCorrection,
    AppealFilters,
    AppealKind,
    AppealPage,
    AppealPriority,
    AppealReply,
    AppealRubric,
    AppealSource,
    Assignment,
    ClassCounts,
    DeletedBy,
    Extension,
    Registration,
    ReplyAccepted,
    ReplyRequest,
    StatusChange,
    TriageStats,
)
from services.appeals.repository import (
    Answer,
    AppealQuery,
    AppealRecord,
    AppealsRepository,
    AttachmentRecord,
    HistoryRecord,
    Labels,
    OutboundMatch,
    PageRef,
    Relabel,
    SeenEvent,
    TriageRecord,
)
from services.appeals.vk import stable_id, vk_time
from services.appeals.workflow import Effects, OutboundMessage
from shared.auth import Principal, Role
from shared.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from shared.regions import get_region
from shared.timeparams import day_range, instant_range, iso, start_of

PORTAL_REFUSAL = (
    "portal clients may not read appeals: they hold citizens' texts and VK ids (personal data, 152-FZ); "
    "read activity counts through /metrics"
)


CORRECTION_ATTEMPTS = 3
STATS_DEFAULT_DAYS = 30
STATS_MAX_DAYS = 366
LABEL_SOURCES = {
    "wall": "wall_comment",
    "board": "board_comment",
    "photo": "photo_comment",
    "video": "video_comment",
    "market": "market_comment",
    "message": "message",
}
"""An appeal's source type as the training data names it."""


class AnswerConflictError(Exception):
    """The target appeal was answered concurrently; the record is retried and picks the next one."""


class AppealChangedError(Exception):
    """The appeal's labels changed while an edit was applied; the record is retried."""


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
    outbound_key: str | None = None


def _local_time(moment: datetime, region_code: str) -> datetime:
    """An instant in the region's time zone."""
    return moment.astimezone(get_region(region_code).zone)


def _seen(page: PageRef, event_id: str, event_type: str) -> SeenEvent:
    return SeenEvent(group_id=page.group_id, event_id=event_id, type=event_type)


def _classify(text: str, at: str) -> TriageRecord:
    """The classifier's labels of a text (the analyser loads on its first call in the process)."""
    result = triage.analyse(text)
    record: TriageRecord = {
        "kind": result.kind,
        "priority": result.priority,
        "obscene": result.obscene,
        "confidence": result.confidence,
        "classifier_version": result.classifier_version,
        "at": at,
    }
    if result.rubric is not None:
        record["rubric"] = result.rubric
    return record


def _status(labels: Labels, stored: AppealRecord | None) -> AppealStatus:
    """The status the labels imply: a non-appeal is dismissed (``no_action``) where the lifecycle allows it, a
    dismissed one restored to ``new`` (``answered`` once the community replied); other statuses are kept."""
    if stored is None:
        return "new" if labels.kind == "appeal" else "no_action"
    current = stored["status"]
    if labels.kind != "appeal":
        return "no_action" if "dismiss" in allowed_actions(current) or current == "no_action" else current
    if current == "no_action":
        return "answered" if stored.get("first_response_at") else "new"
    return current


def _status_workflow(
    repository: AppealsRepository, stored: AppealRecord, status: AppealStatus, at: datetime
) -> dict[str, Any]:
    """The deadlines a status change of a relabelled appeal implies."""
    if status == stored["status"]:
        return {}
    if status == "no_action":
        return {"deadline_at": None}
    if status == "new":
        due = stored.get("due_at") or workflow.first_due_at(
            repository=repository,
            region_code=stored["region_code"],
            zone=workflow.zone_of(stored),
            received_at=datetime.fromisoformat(stored["received_at"]),
        )
        return {"due_at": due, "deadline_at": due}
    if status == "answered":
        return {"deadline_at": None, "answered_at": stored.get("first_response_at") or at.isoformat()}
    return {}


def _status_change(entry: HistoryRecord, old: AppealStatus, new: AppealStatus) -> HistoryRecord:
    if old != new:
        entry["old_status"], entry["new_status"] = old, new
    return entry


# ---------------------------------------------------------------- writes (one transaction per VK event)


def _reopen(repository: AppealsRepository, page: PageRef, appeal: NewAppeal, event_id: str, event_type: str) -> bool:
    """Reopen the author's answered appeal of the thread when they write again within ``REOPEN_DAYS`` of the
    answer: the new text joins its history and it returns to ``in_progress``. True if one was reopened."""
    if repository.read_seen_event(group_id=page.group_id, event_id=event_id) is not None:
        return True
    for entry in repository.previous_in_thread(thread=appeal.thread, before=appeal.date):
        stored = repository.get_appeal(entry.appeal_id)
        if stored is None or stored["author_id"] != appeal.author_id:
            continue
        due = workflow.first_due_at(
            repository=repository,
            region_code=page.region_code,
            zone=workflow.zone_of(stored),
            received_at=vk_time(appeal.date),
        )
        reopened = workflow.reopen_changes(stored, at=vk_time(appeal.date), deadline_at=due)
        if reopened is None:
            return False
        changes, history = reopened
        history["text"] = appeal.text
        return repository.update_appeal(
            stored=stored,
            changes=changes,
            entries=[history],
            thread_answered=False,
            event=_seen(page, event_id, event_type),
        )
    return False


def record_appeal(
    *,
    repository: AppealsRepository,
    page: PageRef,
    appeal: NewAppeal,
    event_id: str,
    event_type: str,
    effects: Effects | None = None,
) -> bool:
    """Store a citizen's appeal once per VK event and per natural key; True if it is new.

    An appeal gets its first-response deadline under the region's policy; the author's follow-up in a thread
    whose appeal was answered within ``REOPEN_DAYS`` reopens that appeal instead of becoming another one.
    ``appeal.created`` goes to ``effects`` every time, and an urgent appeal's notice also when it was stored by an
    earlier delivery (whose publish may have failed), so redelivery re-emits both with the same ids.
    """
    institution = repository.cached_institution(page.institution_id)
    time_zone = institution.get("time_zone") if institution is not None else None
    zone = workflow.zone_of({"region_code": page.region_code, "time_zone": time_zone})
    received_at = iso(vk_time(appeal.date), zone=zone)
    classified = _classify(appeal.text, received_at)
    labels = Labels.of(classified)
    existing = repository.get_appeal(appeal.id) if labels.kind == "appeal" else None
    if labels.kind == "appeal" and existing is None and _reopen(repository, page, appeal, event_id, event_type):
        return False
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
        "status": _status(labels, None),
        "kind": labels.kind,
        "priority": labels.priority,
        "obscene": classified["obscene"],
        "triage": classified,
        "deleted": False,
        "history": [
            {"action": "created", "at": received_at, "text": appeal.text},
            {
                "action": "classified",
                "at": received_at,
                "new": labels.record(),
                "classifier_version": classified["classifier_version"],
            },
        ],
        "event_id": event_id,
        "thread": appeal.thread,
    }
    if labels.rubric is not None:
        record["rubric"] = labels.rubric
    if time_zone is not None:
        record["time_zone"] = time_zone
    if labels.kind == "appeal":
        due = workflow.first_due_at(
            repository=repository, region_code=page.region_code, zone=zone, received_at=vk_time(appeal.date)
        )
        record["due_at"] = record["deadline_at"] = due
    stored = repository.record_appeal(appeal=record, root=appeal.root, event=_seen(page, event_id, event_type))
    if effects is not None:
        effects.events.append(workflow.created_event(record))
        if labels.kind == "appeal" and labels.priority == "urgent":
            # a redelivery notices the appeal stored before again (same notice_id): its first publish may have failed
            noticed = record if stored else existing or repository.get_appeal(appeal.id)
            if noticed is not None and _still_urgent(noticed):
                effects.notices.append(workflow.notice(noticed, "appeal.urgent", "created"))
    return stored


def _still_urgent(record: AppealRecord) -> bool:
    """An open appeal whose priority is (still) urgent."""
    return record["kind"] == "appeal" and record.get("priority") == "urgent" and record["status"] in OPEN_STATUSES


def edit_appeal(
    *,
    repository: AppealsRepository,
    page: PageRef,
    appeal: NewAppeal,
    event_id: str,
    event_type: str,
    edited_at: datetime,
) -> bool:
    """Replace the appeal's text and attachments, keeping every text version in ``history``, and classify it again.

    The model's new labels become the appeal's unless an operator corrected them; a change of the model's labels
    (or of its version) is a ``reclassified`` history entry, after the first ``classified`` one. An edit of a
    comment or message never seen before creates the appeal.
    """
    stored = repository.get_appeal(appeal.id)
    if stored is None:
        return record_appeal(repository=repository, page=page, appeal=appeal, event_id=event_id, event_type=event_type)
    at = _local_time(edited_at, page.region_code)
    outcome = repository.edit_appeal(
        text=appeal.text,
        attachments=appeal.attachments,
        relabel=_reclassified(repository, stored, _classify(appeal.text, at.isoformat(timespec="seconds")), at),
        event=_seen(page, event_id, event_type),
    )
    if outcome == "no_appeal":
        return record_appeal(repository=repository, page=page, appeal=appeal, event_id=event_id, event_type=event_type)
    if outcome == "changed_meanwhile":
        raise AppealChangedError("the appeal's labels changed during the edit")
    return outcome == "applied"


def _reclassified(
    repository: AppealsRepository, stored: AppealRecord, classified: TriageRecord, at: datetime
) -> Relabel:
    """The labels of an edited appeal: the model's new ones, unless an operator corrected the appeal."""
    model = Labels.of(classified)
    previous = stored.get("triage")
    labels = Labels.of(stored) if stored.get("corrected_at") else model
    status = _status(labels, stored)
    entry: HistoryRecord | None = None
    if (
        previous is None
        or Labels.of(previous) != model
        or previous["classifier_version"] != classified["classifier_version"]
    ):
        entry = {
            "action": "reclassified",
            "at": classified["at"],
            "new": model.record(),
            "classifier_version": classified["classifier_version"],
        }
        if previous is not None:
            entry["old"] = Labels.of(previous).record()
        entry = _status_change(entry, stored["status"], status)
    return Relabel(
        stored=stored,
        labels=labels,
        status=status,
        at=at,
        entry=entry,
        triage=classified,
        workflow=_status_workflow(repository, stored, status, at),
    )


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


def _answer_target(
    repository: AppealsRepository, reply: CommunityReply, match: OutboundMatch | None
) -> AppealRecord | None:
    """The appeal a reply answers: ours' own appeal; else the replied-to one while it awaits an answer (whatever its
    kind); else the earliest unanswered appeal of the thread (non-appeals skipped)."""
    if match is not None:
        return repository.get_appeal(match["appeal_id"])
    if reply.reply_to is not None:
        replied = repository.get_appeal(stable_id(reply.reply_to))
        if replied is not None:
            awaiting = replied["status"] in OPEN_STATUSES or not replied.get("first_response_at")
            return replied if awaiting and replied["status"] != "closed" else None
    earliest = repository.earliest_unanswered(thread=reply.thread, root=reply.root)
    return repository.get_appeal(earliest.appeal_id) if earliest is not None else None


def _pending_match(stored: AppealRecord | None, reply: CommunityReply) -> OutboundMatch | None:
    """A reply of ours still being sent whose echo arrived before VK's ids were recorded (same text)."""
    if stored is None:
        return None
    for outgoing in stored.get("outgoing", {}).values():
        if outgoing["state"] == "queued" and outgoing["text"] == reply.reply.text:
            return {"appeal_id": stored["id"], "reply_id": outgoing["reply_id"], "interim": outgoing["interim"]}
    return None


def answer_appeal(
    *,
    repository: AppealsRepository,
    page: PageRef,
    reply: CommunityReply,
    event_id: str,
    event_type: str,
    effects: Effects | None = None,
) -> str | None:
    """Apply a community reply to the appeal it answers and rate the answer; the appeal id, or None.

    A reply sent from the system is recognised by the ids VK returned for it (or, while they are being recorded,
    by its text on the appeal it was sent for): it answers that appeal, once, as an interim or final answer. A reply
    written in VK answers the replied-to or earliest unanswered appeal. The write fails (and the record is retried)
    if the appeal changed meanwhile. A reply applied before (a redelivery) adds its appeal's ``appeal.answered``
    to ``effects`` again: the batch that wrote it may have failed to publish it.
    """
    match = repository.read_outbound(reply.outbound_key) if reply.outbound_key else None
    target = _answer_target(repository, reply, match)
    if match is None:
        match = _pending_match(target, reply)
    answer: Answer | None = None
    if target is not None and (
        match is not None or target["status"] in OPEN_STATUSES or not target.get("first_response_at")
    ):
        rating = triage.rate_answer(reply.reply.text)
        answered = reply.reply.model_dump(mode="json", exclude_none=True)
        if match is not None:
            answered |= {"reply_id": match["reply_id"], "interim": match["interim"]}
        changes, entry, final = workflow.answer_changes(
            repository=repository,
            stored=target,
            reply=answered,
            sent_at=reply.reply.sent_at,
            interim=match is not None and match["interim"],
            quality={"score": rating.score, "flags": list(rating.flags)},
        )
        if match is not None:
            changes[f"outgoing.{match['reply_id']}.state"] = "sent"
        answer = Answer(stored=target, changes=changes, entry=entry, final=final)
    outcome = repository.answer_appeal(
        reply_id=stable_id(reply.natural_key), answer=answer, event=_seen(page, event_id, event_type)
    )
    if outcome == "answered_concurrently":
        raise AnswerConflictError("the appeal was answered concurrently")
    if outcome == "duplicate" and effects is not None:
        _answered_again(repository, stable_id(reply.natural_key), effects)
    if answer is None or outcome != "applied":
        return None
    if effects is not None and answer.changes.get("status") == "answered" and target and target["status"] != "answered":
        effects.events.append(workflow.answered_event({**answer.stored, **answer.changes}))
    return answer.stored["id"]


def _answered_again(repository: AppealsRepository, reply_id: str, effects: Effects) -> None:
    """A reply applied before (a redelivery): ``appeal.answered`` of the appeal it answered, again (same
    ``change_id``, counted once), since the first delivery's publish may have failed after its write."""
    appeal_id = repository.replied_appeal(reply_id)
    answered = repository.get_appeal(appeal_id) if appeal_id is not None else None
    if answered is not None and answered.get("answered_at"):
        effects.events.append(workflow.answered_event(answered))


def reject_event(*, repository: AppealsRepository, page: PageRef, event_id: str, event_type: str, reason: str) -> None:
    """Record a VK event this service cannot use, with the reason, so it is acknowledged once and not retried."""
    repository.reject_event(_seen(page, event_id, event_type), reason=reason)


# ---------------------------------------------------------------- reads


def _ensure_reads_appeals(principal: Principal) -> None:
    """Portals never get a citizen's text or VK id (152-ФЗ): 403 saying where their figures are."""
    if principal.role is Role.PORTAL:
        raise ForbiddenError(PORTAL_REFUSAL)


def _localized(record: AppealRecord) -> Appeal:
    """The API view of a stored appeal: every instant in its zone (``workflow.zone_of``) with its offset, to the
    second."""
    zone = workflow.zone_of(record)

    def local(value: Any) -> Any:
        return iso(datetime.fromisoformat(value), zone=zone) if isinstance(value, str) else value

    data: dict[str, Any] = dict(record)
    for name in (
        "received_at",
        "first_response_at",
        "due_at",
        "corrected_at",
        "final_due_at",
        "answered_at",
        "closed_at",
    ):
        if name in data:
            data[name] = local(data[name])
    deadline = data.get("deadline_at")
    data["overdue"] = bool(
        record["status"] in OPEN_STATUSES
        and deadline
        and (record.get("overdue_at") or datetime.fromisoformat(deadline) < datetime.now(zone))
    )
    data["time_zone"] = zone.key
    data["allowed_actions"] = allowed_actions(record["status"])
    data["anonymised"] = bool(record.get("anonymised_at"))
    data["replies"] = sorted(
        (
            {**reply, "queued_at": local(reply["queued_at"]), "sent_at": local(reply.get("sent_at"))}
            for reply in record.get("outgoing", {}).values()
        ),
        key=lambda reply: str(reply["queued_at"]),
    )
    for name, instant in (("reply", "sent_at"), ("triage", "at")):
        if isinstance(data.get(name), dict):
            data[name] = {**data[name], instant: local(data[name].get(instant))}
    if isinstance(data.get("formal"), dict):
        data["formal"] = {
            name: local(value) if name.endswith("_at") else value for name, value in data["formal"].items()
        }
    data["history"] = [{**entry, "at": local(entry.get("at"))} for entry in data.get("history", [])]
    return Appeal.model_validate(data)


def get_appeal(*, repository: AppealsRepository, principal: Principal, appeal_id: str) -> Appeal:
    """One appeal inside the caller's scope (404 otherwise; 403 for portals)."""
    _ensure_reads_appeals(principal)
    stored = repository.get_appeal(appeal_id)
    if stored is None:
        raise NotFoundError("appeal not found", field="appeal_id")
    if not workflow.can_read_appeal(principal, stored):
        raise NotFoundError("not found")
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
    national = region is None
    if national and filters.status is None and not filters.overdue:
        raise InvalidInputError(
            "a federal-wide list needs region, institution_id, page_id, status or overdue=true", field="region"
        )
    zone = get_region(region).zone if region is not None else ZoneInfo("Europe/Moscow")
    received_from, received_to = instant_range(filters.received_from, filters.received_to, zone=zone)
    due_before = start_of(filters.due_before, zone=zone) if filters.due_before is not None else None
    if filters.assigned_institution is not None and not national:
        _institution_region(repository, principal, filters.assigned_institution, region)
    return {
        "region_code": region or "",
        "assigned_institution": filters.assigned_institution,
        "due_before": due_before,
        "sort": filters.sort,
        "national": national,
        "institution_id": institution,
        "page_id": filters.page_id,
        "status": filters.status,
        "kind": filters.kind,
        "rubric": filters.rubric,
        "priority": filters.priority,
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


# ---------------------------------------------------------------- operators' corrections and the classifier's figures


def _corrected(old: Labels, correction: AppealCorrection) -> Labels:
    """The labels after a correction (422 naming the field that does not fit the kind)."""
    if correction.kind is None and correction.rubric is None and correction.priority is None:
        raise InvalidInputError("give kind, rubric or priority", field="body")
    kind = correction.kind or old.kind
    if kind != "appeal":
        if correction.rubric is not None:
            raise InvalidInputError(f"a {kind} has no rubric (appeals only)", field="rubric")
        if correction.priority == "urgent":
            raise InvalidInputError(f"a {kind} cannot be urgent (appeals only)", field="priority")
        return Labels(kind=kind)
    was_appeal = old.kind == "appeal"
    rubric = correction.rubric or (old.rubric if was_appeal else None)
    if rubric is None:
        raise InvalidInputError("an appeal needs a rubric", field="rubric")
    priority = correction.priority or (old.priority if was_appeal else "normal")
    return Labels(kind=kind, rubric=rubric, priority=priority)


def correct_appeal(
    *, repository: AppealsRepository, principal: Principal, appeal_id: str, correction: AppealCorrection
) -> Appeal:
    """An operator's or admin's correction of kind, rubric or priority, recorded in the history with the actor.

    Operators and regional admins of the appeal's region and federal admins; portals and institution admins 403,
    as is an appeal of another region (a write outside the scope). A new kind moves the appeal between
    ``no_action`` and its workflow. Labels are written only if unchanged since read (read again, a few times, else
    409).
    """
    if principal.role in (Role.PORTAL, Role.INSTITUTION_ADMIN):
        raise ForbiddenError("labels are corrected by the region's operators and admins")
    for _ in range(CORRECTION_ATTEMPTS):
        stored = repository.get_appeal(appeal_id)
        if stored is None:
            raise NotFoundError("appeal not found", field="appeal_id")
        principal.ensure_can_write(region_code=stored["region_code"])
        old = Labels.of(stored)
        new = _corrected(old, correction)
        if new == old:
            return _localized(stored)
        status = _status(new, stored)
        if new.kind != "appeal" and status != "no_action":
            raise IllegalTransitionError(current=stored["status"], action="dismiss")
        at = datetime.now(get_region(stored["region_code"]).zone).replace(microsecond=0)
        entry: HistoryRecord = {
            "action": "corrected",
            "at": at.isoformat(),
            "actor": principal.sub,
            "old": old.record(),
            "new": new.record(),
        }
        relabel = Relabel(
            stored=stored,
            labels=new,
            status=status,
            at=at,
            entry=_status_change(entry, stored["status"], status),
            corrected=True,
            workflow=_status_workflow(repository, stored, status, at),
        )
        if repository.correct_appeal(relabel):
            return get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)
    raise ConflictError("the appeal keeps changing; read it again and retry", field="appeal_id")


def _label_line(record: AppealRecord) -> str:
    """One corrected example as ``make train-triage LABELS=...`` reads it: no author, VK or appeal ids."""
    model = record.get("triage")
    line = {
        "text": record["text"],
        "kind": record["kind"],
        "rubric": record.get("rubric"),
        "priority": record.get("priority", "normal"),
        "obscene": record.get("obscene", False),
        "source": LABEL_SOURCES.get(str(record["source"].get("type")), ""),
        "corrected_at": iso(
            datetime.fromisoformat(record["corrected_at"]), zone=get_region(record["region_code"]).zone
        ),
        "model": None
        if model is None
        else {
            "kind": model["kind"],
            "rubric": model.get("rubric"),
            "priority": model["priority"],
            "obscene": model["obscene"],
            "confidence": model["confidence"],
            "classifier_version": model["classifier_version"],
        },
    }
    return json.dumps(line, ensure_ascii=False) + "\n"


def export_labels(
    *, repository: AppealsRepository, principal: Principal, region: str | None, since: date | datetime | None
) -> Iterator[str]:
    """Corrected appeals of a region as JSON lines (last corrected at or after ``since``), oldest first.

    Regional admins of the region and federal admins (who name the region); everyone else 403. The scope is
    checked before the first line.
    """
    if principal.role not in (Role.REGIONAL_ADMIN, Role.FEDERAL_ADMIN):
        raise ForbiddenError("the label export is for regional and federal admins")
    region_code = principal.readable_region(region)
    if region_code is None:
        raise InvalidInputError("federal admins name the region", field="region")
    start = start_of(since, zone=get_region(region_code).zone) if since is not None else None
    return (_label_line(record) for record in repository.corrected_appeals(region_code=region_code, since=start))


def _class_counts(counted: dict[str, dict[str, int]], classes: tuple[str, ...]) -> dict[Any, ClassCounts]:
    return {name: ClassCounts.model_validate(counted.get(name, {})) for name in classes}


def triage_stats(
    *, repository: AppealsRepository, principal: Principal, region: str | None, first: date | None, last: date | None
) -> TriageStats:
    """Per class of each label: how many appeals the model assigned to it, how many corrections left or reached it.

    Whole local days of the region (``to`` defaults to today, ``from`` to 30 days before it; at most 366 days).
    Operators and regional admins of the region and federal admins (who name the region); others 403.
    """
    _ensure_reads_appeals(principal)
    region_code = principal.region_wide_scope(region)
    if region_code is None:
        raise InvalidInputError("federal admins name the region", field="region")
    today = datetime.now(get_region(region_code).zone).date()
    first_day, last_day = day_range(first, last, today=today, default_days=STATS_DEFAULT_DAYS, max_days=STATS_MAX_DAYS)
    counted = repository.triage_counters(region_code=region_code, first_day=first_day, last_day=last_day)
    return TriageStats(
        region=region_code,
        first_day=first_day,
        last_day=last_day,
        kind=_class_counts(counted.get("kind", {}), get_args(AppealKind)),
        rubric=_class_counts(counted.get("rubric", {}), get_args(AppealRubric)),
        priority=_class_counts(counted.get("priority", {}), get_args(AppealPriority)),
    )


# ---------------------------------------------------------------- workflow over the API


def transition_appeal(
    *,
    repository: AppealsRepository,
    principal: Principal,
    appeal_id: str,
    change: StatusChange,
    publish: Callable[[Effects], None],
) -> Appeal:
    """A lifecycle action on an appeal in the caller's scope (see ``workflow.change_status``); its events published."""
    effects = Effects()
    workflow.change_status(
        repository=repository, principal=principal, appeal_id=appeal_id, change=change, effects=effects
    )
    publish(effects)
    return get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)


def assign_appeal(
    *, repository: AppealsRepository, principal: Principal, appeal_id: str, assignment: Assignment
) -> Appeal:
    """Forward an appeal to an institution of its region (see ``workflow.assign``)."""
    workflow.assign(repository=repository, principal=principal, appeal_id=appeal_id, assignment=assignment)
    return get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)


def register_appeal(
    *, repository: AppealsRepository, principal: Principal, appeal_id: str, registration: Registration
) -> Appeal:
    """Record an escalated appeal's 59-ФЗ registration (see ``workflow.register_formal``)."""
    workflow.register_formal(repository=repository, principal=principal, appeal_id=appeal_id, registration=registration)
    return get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)


def extend_appeal(
    *,
    repository: AppealsRepository,
    principal: Principal,
    appeal_id: str,
    extension: Extension,
    enqueue: Callable[[OutboundMessage], None],
) -> Appeal:
    """Extend a registered 59-ФЗ appeal's answer deadline once (see ``workflow.extend_formal``)."""
    workflow.extend_formal(
        repository=repository, principal=principal, appeal_id=appeal_id, extension=extension, enqueue=enqueue
    )
    return get_appeal(repository=repository, principal=principal, appeal_id=appeal_id)


def reply_to_appeal(
    *,
    repository: AppealsRepository,
    principal: Principal,
    appeal_id: str,
    request: ReplyRequest,
    enqueue: Callable[[OutboundMessage], None],
) -> ReplyAccepted:
    """Queue a reply for VK (see ``workflow.queue_reply``)."""
    return workflow.queue_reply(
        repository=repository, principal=principal, appeal_id=appeal_id, request=request, enqueue=enqueue
    )
