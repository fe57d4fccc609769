"""Appeals workflow use cases: deadline policies, lifecycle actions, assignment, replies to VK, overdue and
anonymisation runs, and the appeal events and notices they produce.

Every change is one conditional write (the status read must still be there) through ``AppealsRepository``; a lost
race is retried a few times, then a 409. Deadlines come from ``services.appeals.sla`` under the region's policy, in
the region's zone. Events (``shared.events``) carry a ``change_id`` stable per change, so a re-published event is
counted once; notices carry no text and no citizen ids.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from services.appeals.lifecycle import (
    AWAITING_FIRST_RESPONSE,
    OPEN_STATUSES,
    REOPEN_DAYS,
    Action,
    AppealStatus,
    IllegalTransitionError,
    allowed_actions,
    next_status,
)
from services.appeals.models import (
    Assignment,
    Deadline,
    DeadlinePolicy,
    DeadlinePolicyUpdate,
    Extension,
    Registration,
    ReplyAccepted,
    ReplyRequest,
    StatusChange,
)
from services.appeals.repository import (
    AppealRecord,
    AppealsRepository,
    FormalRecord,
    HistoryRecord,
    OutboundMatch,
    OutgoingRecord,
    PolicyRecord,
    ThreadEntry,
)
from services.appeals.sla import Policy, due_at, final_due_at, working_minutes
from shared.auth import Principal, Role
from shared.config import get_settings
from shared.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from shared.events import (
    AppealAnswered,
    AppealClosed,
    AppealCreated,
    AppealOverdue,
    Payload,
    make_event,
)
from shared.outbox import OutboxRecord, new_record
from shared.regions import get_region, is_region

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from shared.vk_api import VkApi

WRITE_ATTEMPTS = 3
MAX_ROUNDS = 10
"""Index pages a schedule run reads at most (the next run picks up the rest)."""
REGISTRATION_DAYS = 3
"""59-ФЗ ст. 8 ч. 2: a written appeal is registered within 3 (calendar) days of its receipt, here its escalation."""
FORMAL_ANSWER_DAYS = 30
"""59-ФЗ ст. 12 ч. 1: answered within 30 days of its registration."""
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
WEBHOOK_SECRET_PREFIX = "appeals/webhooks"
COMMENT_METHODS = {
    "wall": ("wall.createComment", "post_id", True),
    "board": ("board.createComment", "topic_id", False),
    "photo": ("photos.createComment", "photo_id", True),
    "video": ("video.createComment", "video_id", True),
    "market": ("market.createComment", "item_id", True),
}
"""Source type -> (VK method, the commented object's parameter, whether it takes ``reply_to_comment``)."""
SecretsFactory = Callable[[], "SecretsManagerClient"]


class Notice(BaseModel):
    """What the notifications queue carries to a region's webhook: no text, no citizen ids."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    notice_id: str
    type: Literal["appeal.overdue", "appeal.urgent"]
    region_code: str
    appeal_id: str
    page_id: str
    institution_id: str
    rubric: str | None = None
    priority: str = "normal"
    received_at: str
    due_at: str | None = None


class OutboundMessage(BaseModel):
    """What the outbound queue carries to the sender: which reply of which appeal to send."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    appeal_id: str
    reply_id: str


@dataclass
class Effects:
    """What changes produced for other services and the ЦУР, to publish after their writes: events for metrics,
    notices for the webhook, and outbox records (events already committed with their change, ``shared.outbox``)."""

    events: list[Payload] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    outbox: list[OutboxRecord] = field(default_factory=list)


# ---------------------------------------------------------------- time and policy


def _now(region_code: str) -> datetime:
    return datetime.now(get_region(region_code).zone).replace(microsecond=0)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def policy_of(record: PolicyRecord | None) -> Policy:
    """The SLA policy of a stored region policy (the defaults when there is none)."""
    if record is None:
        return Policy()
    return Policy(
        mode=cast(Any, record["mode"]),
        hours=int(record["hours"]),
        final_days=int(record["final_days"]),
        extra_days_off=frozenset(date.fromisoformat(day) for day in record.get("extra_days_off", [])),
    )


def region_policy(repository: AppealsRepository, region_code: str) -> Policy:
    """The region's current SLA policy (as this process read it at most ``cache_ttl_seconds`` ago)."""
    return policy_of(repository.cached_policy(region_code))


def zone_of(record: Mapping[str, Any]) -> ZoneInfo:
    """The time zone an appeal's (or institution's) working time runs in: the institution's own, else the region's."""
    time_zone = record.get("time_zone")
    return ZoneInfo(time_zone) if time_zone else get_region(record["region_code"]).zone


def first_due_at(*, repository: AppealsRepository, region_code: str, zone: ZoneInfo, received_at: datetime) -> str:
    """The first-response deadline of a message under the region's policy, counted in ``zone`` (ISO 8601 with its
    offset)."""
    return _iso(due_at(received_at, zone=zone, policy=region_policy(repository, region_code)))


def _policy_view(region_code: str, record: PolicyRecord | None) -> DeadlinePolicy:
    if record is None:
        return DeadlinePolicy(region_code=region_code)
    return DeadlinePolicy.model_validate(record)


def _ensure_region(region_code: str) -> None:
    if not is_region(region_code):
        raise NotFoundError(f"region {region_code} not found", field="region_code")


def get_policy(*, repository: AppealsRepository, principal: Principal, region_code: str) -> DeadlinePolicy:
    """The region's deadline policy (every role of the region and federal admins; another region 404)."""
    _ensure_region(region_code)
    principal.readable_region(region_code)
    return _policy_view(region_code, repository.read_policy(region_code))


def _webhook_url(url: str) -> str:
    """An HTTPS URL (plain HTTP only to a loopback receiver, as the local stack's): 422 naming the field."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS):
        return url
    raise InvalidInputError("the notification webhook must be an https URL", field="webhook_url")


def webhook_secret_id(stack_name: str, region_code: str) -> str:
    """Where the region's webhook secret is kept in the secret store."""
    return f"{stack_name}/{WEBHOOK_SECRET_PREFIX}/{region_code}"


def put_policy(
    *,
    repository: AppealsRepository,
    principal: Principal,
    region_code: str,
    update: DeadlinePolicyUpdate,
    secrets: SecretsFactory,
    stack_name: str,
) -> DeadlinePolicy:
    """Replace the region's policy (its regional admins and federal admins; others 403).

    A webhook secret is write-only: kept in the secret store, never returned. A new webhook URL needs one unless
    one is set already.
    """
    _ensure_region(region_code)
    if principal.role not in (Role.REGIONAL_ADMIN, Role.FEDERAL_ADMIN):
        raise ForbiddenError("deadline policies are set by the region's admins")
    principal.ensure_can_write(region_code=region_code)
    stored = repository.read_policy(region_code)
    secret_set = bool(stored and stored.get("webhook_secret_set"))
    url = _webhook_url(str(update.webhook_url)) if update.webhook_url is not None else None
    if url is not None and update.webhook_secret is None and not secret_set:
        raise InvalidInputError("a webhook needs a secret to sign its notices", field="webhook_secret")
    if update.webhook_secret is not None:
        _store_secret(secrets(), webhook_secret_id(stack_name, region_code), update.webhook_secret.get_secret_value())
        secret_set = True
    record: PolicyRecord = {
        "region_code": region_code,
        "mode": update.mode,
        "hours": update.hours,
        "final_days": update.final_days,
        "extra_days_off": sorted({day.isoformat() for day in update.extra_days_off}),
        "webhook_secret_set": secret_set,
        "updated_at": _iso(_now(region_code)),
        "updated_by": principal.sub,
    }
    if url is not None:
        record["webhook_url"] = url
    repository.put_policy(record)
    return _policy_view(region_code, record)


def _store_secret(client: SecretsManagerClient, name: str, value: str) -> None:
    try:
        client.put_secret_value(SecretId=name, SecretString=value)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=value, Description="Appeals notification webhook secret")


def deadline(
    *,
    repository: AppealsRepository,
    principal: Principal,
    region_code: str,
    received_at: date | datetime,
    institution_id: str | None = None,
) -> Deadline:
    """The first-response deadline under the region's current policy (every role of the region, portals too), in
    the region's zone or the institution's own; an instant without an offset, or a day (its start), is read in that
    zone. An institution outside the region is a 404."""
    from shared.timeparams import start_of

    _ensure_region(region_code)
    principal.readable_region(region_code)
    zone = get_region(region_code).zone
    if institution_id is not None:
        institution = repository.read_institution(institution_id)
        if institution is None or institution["region_code"] != region_code:
            raise NotFoundError(
                f"institution {institution_id} not found in region {region_code}", field="institution_id"
            )
        zone = zone_of(institution)
    moment = start_of(received_at, zone=zone)
    policy = policy_of(repository.read_policy(region_code))
    return Deadline(due_at=due_at(moment, zone=zone, policy=policy))


# ---------------------------------------------------------------- events and notices


def _facts(record: Mapping[str, Any], change_id: str) -> dict[str, Any]:
    return {
        "change_id": change_id,
        "appeal_id": record["id"],
        "page_id": record["page_id"],
        "institution_id": record["institution_id"],
        "region_code": record["region_code"],
        "kind": record["kind"],
        "rubric": record.get("rubric"),
        "priority": record.get("priority", "normal"),
        "received_at": record["received_at"],
    }


def created_event(record: Mapping[str, Any]) -> AppealCreated:
    """``appeal.created`` of a stored appeal (one per appeal)."""
    return AppealCreated(**_facts(record, f"created:{record['id']}"))


def answered_event(record: Mapping[str, Any]) -> AppealAnswered:
    """``appeal.answered`` of an appeal once its final answer is in (one per appeal)."""
    quality = record.get("answer_quality") or {}
    return AppealAnswered(
        **_facts(record, f"answered:{record['id']}"),
        answered_at=record["answered_at"],
        response_working_minutes=record.get("response_working_minutes"),
        answered_within_sla=record.get("answered_within_sla"),
        answer_quality_score=quality.get("score"),
        answer_quality_flags=tuple(quality.get("flags", ())),
    )


def notice(record: Mapping[str, Any], kind: Literal["appeal.overdue", "appeal.urgent"], key: str) -> Notice:
    """A notice for the region's webhook (its id stable per appeal and deadline)."""
    return Notice(
        notice_id=f"{kind}:{record['id']}:{key}",
        type=kind,
        region_code=record["region_code"],
        appeal_id=record["id"],
        page_id=record["page_id"],
        institution_id=record.get("assigned_institution_id") or record["institution_id"],
        rubric=record.get("rubric"),
        priority=record.get("priority", "normal"),
        received_at=record["received_at"],
        due_at=record.get("deadline_at"),
    )


# ---------------------------------------------------------------- scope


def institution_ids(record: Mapping[str, Any]) -> tuple[str, ...]:
    """The institutions whose admins see and answer an appeal: its own and the one it was forwarded to."""
    assigned = record.get("assigned_institution_id")
    return (record["institution_id"], assigned) if assigned else (record["institution_id"],)


def can_read_appeal(principal: Principal, record: Mapping[str, Any]) -> bool:
    """Inside the caller's scope: its region, or for an institution admin its institution or one forwarded to it."""
    return any(
        principal.can_read(region_code=record["region_code"], institution_id=institution)
        for institution in institution_ids(record)
    )


def _writable(repository: AppealsRepository, principal: Principal, appeal_id: str) -> AppealRecord:
    """The appeal, if the caller may act on it: 404 when absent, 403 outside the scope or for portals."""
    if principal.role is Role.PORTAL:
        raise ForbiddenError("portal clients are read-only")
    stored = repository.get_appeal(appeal_id)
    if stored is None:
        raise NotFoundError("appeal not found", field="appeal_id")
    if not can_read_appeal(principal, stored):
        raise ForbiddenError("outside your region or institution")
    return stored


# ---------------------------------------------------------------- lifecycle


def _action_for(stored: AppealRecord, change: StatusChange) -> Action:
    """The action asked for, or the one that leads from the current status to the status asked for."""
    if change.action is not None:
        return change.action
    for action in allowed_actions(stored["status"]):
        if next_status(current=stored["status"], action=action) == change.status:
            return action
    raise ConflictError(f"an appeal that is {stored['status']} cannot become {change.status}", field="status")


def _transition_changes(
    repository: AppealsRepository, stored: AppealRecord, action: Action, target: AppealStatus, now: datetime
) -> dict[str, Any]:
    """What the move to ``target`` changes besides the status: deadlines, closing, answering."""
    changes: dict[str, Any] = {"status": target}
    if target == "closed":
        days = _anonymise_after_days()
        changes |= {"closed_at": _iso(now), "anonymise_at": _iso(now + timedelta(days=days)), "deadline_at": None}
    elif target == "escalated_59fz":
        formal = stored.get("formal") or {
            "escalated_at": _iso(now),
            "registration_due_at": _iso(now + timedelta(days=REGISTRATION_DAYS)),
        }
        changes |= {"formal": formal, "deadline_at": _formal_deadline(formal), "overdue_at": None}
    elif target == "no_action":
        changes |= {"deadline_at": None}
    elif action == "restore":
        due = stored.get("due_at") or first_due_at(
            repository=repository,
            region_code=stored["region_code"],
            zone=zone_of(stored),
            received_at=_at(stored["received_at"]),
        )
        changes |= {"due_at": due, "deadline_at": due}
    elif action == "reopen":
        changes |= {"deadline_at": stored.get("due_at"), "answered_at": None, "answered_within_sla": None}
    elif target == "interim_answer":
        changes |= _interim(repository, stored, now)
    elif target == "answered":
        changes |= _final(repository, stored, now)
    return changes


def _anonymise_after_days() -> int:
    return get_settings().appeals_anonymise_after_days


def _interim(repository: AppealsRepository, stored: AppealRecord, now: datetime) -> dict[str, Any]:
    zone = zone_of(stored)
    policy = region_policy(repository, stored["region_code"])
    final = _iso(final_due_at(now, zone=zone, policy=policy))
    changes: dict[str, Any] = {"final_due_at": final, "deadline_at": final, "overdue_at": None}
    return changes | _first_response(repository, stored, now)


def _first_response(repository: AppealsRepository, stored: AppealRecord, now: datetime) -> dict[str, Any]:
    if stored.get("first_response_at"):
        return {}
    elapsed = max(0, int(now.timestamp()) - stored["vk_date"]) // 60
    changes: dict[str, Any] = {"first_response_at": _iso(now), "response_elapsed_minutes": elapsed}
    if stored["kind"] == "appeal":
        zone = zone_of(stored)
        policy = region_policy(repository, stored["region_code"])
        changes["response_working_minutes"] = working_minutes(_at(stored["received_at"]), now, zone=zone, policy=policy)
    return changes


def _final(repository: AppealsRepository, stored: AppealRecord, now: datetime) -> dict[str, Any]:
    """The answer's figures: within the SLA when the first response met ``due_at`` and a final answer after an
    interim one ``final_due_at``; a 59-ФЗ appeal instead by its registration and answer deadlines."""
    changes = {"answered_at": _iso(now), "deadline_at": None} | _first_response(repository, stored, now)
    formal = stored.get("formal")
    if formal is not None and stored["status"] == "escalated_59fz":
        registered = formal.get("registered_at")
        within = registered is None or _at(registered) <= _at(formal["registration_due_at"])
        return changes | {"answered_within_sla": within and now <= _at(_formal_deadline(formal))}
    first = _at(changes.get("first_response_at") or stored["first_response_at"])
    within = stored.get("due_at") is None or first <= _at(stored["due_at"])
    if stored.get("final_due_at"):
        within = within and now <= _at(stored["final_due_at"])
    return changes | {"answered_within_sla": within}


def _formal_deadline(formal: FormalRecord) -> str:
    """What a 59-ФЗ appeal waits for: its registration, then its (possibly extended) answer."""
    return formal.get("answer_due_at") or formal["registration_due_at"]


def _events_of(before: AppealRecord, changes: Mapping[str, Any]) -> list[Payload]:
    """The appeal events of a status change: ``appeal.answered`` when it becomes answered, ``appeal.closed``."""
    after = {**before, **changes}
    events: list[Payload] = []
    if changes.get("status") == "answered" and before["status"] != "answered":
        events.append(answered_event(after))
    if changes.get("status") == "closed":
        closed = AppealClosed(
            **_facts(after, f"closed:{after['id']}:{after['closed_at']}"), closed_at=after["closed_at"]
        )
        events.append(closed)
    return events


def _outbox(events: Sequence[Payload]) -> OutboxRecord:
    """An outbox record of appeal events, written in the transaction of their change (``shared.outbox``)."""
    return new_record(make_event("appeals", payload) for payload in events)


def change_status(
    *,
    repository: AppealsRepository,
    principal: Principal,
    appeal_id: str,
    change: StatusChange,
    effects: Effects | None = None,
) -> AppealRecord:
    """Apply a lifecycle action (or reach a status), recorded in the history with actor, time, old and new status.

    An action whose target status the appeal already has is a no-op (a repeated click); an illegal one is a 409
    naming the current status. ``forward`` goes through ``assign`` (it names the institution). The change's events
    are written with it (outbox) and added to ``effects.outbox`` to be dispatched after the commit; whatever is not
    dispatched ``AppealsOutboxFunction`` relays.
    """
    for _ in range(WRITE_ATTEMPTS):
        stored = _writable(repository, principal, appeal_id)
        action = _action_for(stored, change)
        if action == "forward":
            raise InvalidInputError("forward an appeal with POST /appeals/{appeal_id}/assign", field="action")
        if stored["status"] == _target_of(action):
            return stored
        if action == "restore" and stored["kind"] != "appeal":
            raise InvalidInputError(f"a {stored['kind']} becomes an appeal by correcting its kind", field="action")
        target = next_status(current=stored["status"], action=action)
        now = _now(stored["region_code"])
        changes = _transition_changes(repository, stored, action, target, now)
        entry: HistoryRecord = {
            "action": "status_changed",
            "at": _iso(now),
            "actor": principal.sub,
            "action_taken": action,
            "old_status": stored["status"],
            "new_status": target,
        }
        thread = None
        if target in ("answered", "closed"):
            thread = True
        elif action in ("reopen", "restore"):
            thread = False
        events = _events_of(stored, changes)
        outbox = _outbox(events) if events else None
        if repository.update_appeal(
            stored=stored, changes=changes, entries=[entry], thread_answered=thread, outbox=outbox
        ):
            if effects is not None and outbox is not None:
                effects.outbox.append(outbox)
            return {**stored, **changes}  # type: ignore[typeddict-item]
    raise ConflictError("the appeal keeps changing; read it again and retry", field="appeal_id")


def _target_of(action: Action) -> AppealStatus:
    from services.appeals.lifecycle import TRANSITIONS

    return TRANSITIONS[action][1]


def assign(
    *, repository: AppealsRepository, principal: Principal, appeal_id: str, assignment: Assignment
) -> AppealRecord:
    """Forward the appeal to an institution of its region (operators, regional and federal admins); its deadline
    runs on. The institution's admins then see and answer it."""
    if principal.role in (Role.PORTAL, Role.INSTITUTION_ADMIN):
        raise ForbiddenError("appeals are forwarded by the region's operators and admins")
    for _ in range(WRITE_ATTEMPTS):
        stored = _writable(repository, principal, appeal_id)
        institution = repository.read_institution(assignment.institution_id)
        if institution is None or institution["region_code"] != stored["region_code"]:
            raise InvalidInputError("not an institution of the appeal's region", field="institution_id")
        target = next_status(current=stored["status"], action="forward")
        now = _now(stored["region_code"])
        changes = {"status": target, "assigned_institution_id": assignment.institution_id}
        entry: HistoryRecord = {
            "action": "assigned",
            "at": _iso(now),
            "actor": principal.sub,
            "action_taken": "forward",
            "old_status": stored["status"],
            "new_status": target,
            "institution_id": assignment.institution_id,
        }
        if repository.update_appeal(stored=stored, changes=changes, entries=[entry]):
            return {**stored, **changes}  # type: ignore[typeddict-item]
    raise ConflictError("the appeal keeps changing; read it again and retry", field="appeal_id")


# ---------------------------------------------------------------- the 59-ФЗ track


def _formal_of(stored: AppealRecord, action: str) -> FormalRecord:
    """The 59-ФЗ track of an escalated appeal (409 naming the status for any other)."""
    formal = stored.get("formal")
    if stored["status"] != "escalated_59fz" or formal is None:
        raise ConflictError(
            f"cannot {action} an appeal that is {stored['status']}: only an escalated_59fz appeal has a 59-ФЗ track",
            field="status",
        )
    return formal


def register_formal(
    *, repository: AppealsRepository, principal: Principal, appeal_id: str, registration: Registration
) -> AppealRecord:
    """Record the registration of an escalated appeal: its answer is due 30 days later (59-ФЗ ст. 12).

    The same number again changes nothing; another number is a 409 (an appeal is registered once). The moment
    (now when not given; naive ones in the appeal's zone) may be neither before the escalation nor ahead of now.
    """
    for _ in range(WRITE_ATTEMPTS):
        stored = _writable(repository, principal, appeal_id)
        formal = _formal_of(stored, "register")
        if "registration_number" in formal:
            if formal["registration_number"] == registration.number:
                return stored
            raise ConflictError(f"the appeal is registered already, as {formal['registration_number']}", field="number")
        zone = zone_of(stored)
        now = datetime.now(zone).replace(microsecond=0)
        at = registration.registered_at or now
        at = (at if at.tzinfo is not None else at.replace(tzinfo=zone)).astimezone(zone).replace(microsecond=0)
        if at < _at(formal["escalated_at"]) or at > now + timedelta(minutes=5):
            raise InvalidInputError(
                f"a registration falls between the escalation ({formal['escalated_at']}) and now", field="registered_at"
            )
        answer_due = _iso(at + timedelta(days=FORMAL_ANSWER_DAYS))
        registered: FormalRecord = {
            **formal,
            "registration_number": registration.number,
            "registered_at": _iso(at),
            "answer_due_at": answer_due,
        }
        changes = {"formal": registered, "deadline_at": answer_due, "overdue_at": None}
        entry: HistoryRecord = {
            "action": "registered",
            "at": _iso(now),
            "actor": principal.sub,
            "registration_number": registration.number,
        }
        if repository.update_appeal(stored=stored, changes=changes, entries=[entry]):
            return {**stored, **changes}  # type: ignore[typeddict-item]
    raise ConflictError("the appeal keeps changing; read it again and retry", field="appeal_id")


def extend_formal(
    *,
    repository: AppealsRepository,
    principal: Principal,
    appeal_id: str,
    extension: Extension,
    enqueue: Callable[[OutboundMessage], None],
) -> AppealRecord:
    """Extend a registered 59-ФЗ appeal's answer deadline once, by up to 30 days, before it ends (ст. 12 ч. 2).

    A ``notice`` to the citizen is queued as a reply where they wrote (it does not answer the appeal). A second
    extension, one after the deadline or before the registration is a 409.
    """
    for _ in range(WRITE_ATTEMPTS):
        stored = _writable(repository, principal, appeal_id)
        formal = _formal_of(stored, "extend")
        if "answer_due_at" not in formal:
            raise ConflictError(
                "register the appeal first: its answer deadline runs from the registration", field="formal"
            )
        if "extension_days" in formal:
            raise ConflictError(
                f"the answer deadline was extended already (by {formal['extension_days']} days); "
                "59-ФЗ allows one extension",
                field="days",
            )
        now = _now(stored["region_code"])
        if now > _at(formal["answer_due_at"]):
            raise ConflictError(
                f"the answer deadline ended at {formal['answer_due_at']}; an extension is decided before it ends",
                field="days",
            )
        answer_due = _iso(_at(formal["answer_due_at"]) + timedelta(days=extension.days))
        extended: FormalRecord = {
            **formal,
            "answer_due_at": answer_due,
            "extension_days": extension.days,
            "extension_reason": extension.reason,
            "extended_at": _iso(now),
        }
        changes: dict[str, Any] = {"formal": extended, "deadline_at": answer_due, "overdue_at": None}
        entry: HistoryRecord = {
            "action": "extended",
            "at": _iso(now),
            "actor": principal.sub,
            "extension_days": extension.days,
            "reason": extension.reason,
        }
        entries = [entry]
        reply_id = None
        if extension.notice is not None:
            notice_reply = ReplyRequest(text=extension.notice, interim=True)
            reply_id, outgoing, replied = _outgoing_reply(stored, principal, notice_reply, now)
            changes |= outgoing
            entries.append(replied)
        if repository.update_appeal(stored=stored, changes=changes, entries=entries):
            if reply_id is not None:
                enqueue(OutboundMessage(appeal_id=appeal_id, reply_id=reply_id))
            return {**stored, **changes}  # type: ignore[typeddict-item]
    raise ConflictError("the appeal keeps changing; read it again and retry", field="appeal_id")


# ---------------------------------------------------------------- replies to VK


def queue_reply(
    *,
    repository: AppealsRepository,
    principal: Principal,
    appeal_id: str,
    request: ReplyRequest,
    enqueue: Callable[[OutboundMessage], None],
) -> ReplyAccepted:
    """Store the reply on the appeal (``queued``) and put it on the outbound queue for the sender (202).

    Operators and regional admins of the region, federal admins, and the admins of the appeal's institution or the
    one it was forwarded to; the appeal must be awaiting an answer (409 naming its status otherwise).
    """
    for _ in range(WRITE_ATTEMPTS):
        stored = _writable(repository, principal, appeal_id)
        if stored["status"] not in OPEN_STATUSES:
            raise IllegalTransitionError(
                current=stored["status"], action="interim_answer" if request.interim else "answer"
            )
        if request.interim and stored["status"] not in ("interim_answer", "escalated_59fz"):
            next_status(current=stored["status"], action="interim_answer")
        now = _now(stored["region_code"])
        reply_id, changes, entry = _outgoing_reply(stored, principal, request, now)
        if stored["status"] == "new":
            changes["status"] = "in_progress"
            entry |= {"old_status": stored["status"], "new_status": "in_progress", "action_taken": "take"}
        if repository.update_appeal(stored=stored, changes=changes, entries=[entry]):
            enqueue(OutboundMessage(appeal_id=appeal_id, reply_id=reply_id))
            return ReplyAccepted(appeal_id=appeal_id, reply_id=reply_id, state="queued")
    raise ConflictError("the appeal keeps changing; read it again and retry", field="appeal_id")


def _outgoing_reply(
    stored: AppealRecord, principal: Principal, request: ReplyRequest, now: datetime
) -> tuple[str, dict[str, Any], HistoryRecord]:
    """A new reply stored on the appeal as ``queued``: (its id, the appeal's changes, its history entry)."""
    reply_id = uuid.uuid4().hex
    outgoing: OutgoingRecord = {
        "reply_id": reply_id,
        "text": request.text,
        "interim": request.interim,
        "state": "queued",
        "queued_at": _iso(now),
        "actor": principal.sub,
    }
    changes: dict[str, Any] = {"outgoing": {**stored.get("outgoing", {}), reply_id: outgoing}}
    entry: HistoryRecord = {
        "action": "replied",
        "at": _iso(now),
        "actor": principal.sub,
        "reply_id": reply_id,
        "interim": request.interim,
    }
    return reply_id, changes, entry


def random_id(reply_id: str) -> int:
    """``messages.send``'s ``random_id`` of a reply: the same for every retry of it, unique per reply."""
    return zlib.crc32(reply_id.encode()) & 0x7FFFFFFF or 1


def _vk_call(record: AppealRecord, reply: OutgoingRecord) -> tuple[str, dict[str, Any]]:
    """The VK method and parameters that post the reply where the citizen wrote."""
    source = cast(dict[str, Any], record["source"])
    group_id = int(source["group_id"])
    if source["type"] == "message":
        params = {"group_id": group_id, "peer_id": source["peer_id"], "random_id": random_id(reply["reply_id"])}
        return "messages.send", params | {"message": reply["text"]}
    method, parent, threaded = COMMENT_METHODS[str(source["type"])]
    params = {parent: source[parent], "message": reply["text"], "from_group": 1, "guid": reply["reply_id"]}
    if method == "board.createComment":
        params["group_id"] = group_id
    else:
        params["owner_id"] = source.get("owner_id") or -group_id
    if threaded and source.get("comment_id"):
        params["reply_to_comment"] = source["comment_id"]
    return method, params


def outbound_key(record: Mapping[str, Any], *, comment_id: int | None = None, message_id: int | None = None) -> str:
    """What VK's echo of a reply of ours on this appeal carries: the comment's natural key, or the message id."""
    if message_id is not None:
        return f"message:{record['source']['group_id']}:id:{message_id}"
    return f"{record['thread']}:{comment_id}"


class TransientSendError(Exception):
    """VK could not take the reply now (rate limit, its own error, no answer): the queue retries it."""


def send_reply(
    *, repository: AppealsRepository, vk: VkApi, token_of: Callable[[str], str | None], message: OutboundMessage
) -> str:
    """Send one queued reply to VK; its new state (``sent``, ``failed``) or what it already had.

    VK's ids are recorded (for the echo); a permanent error is recorded with a readable reason and never retried;
    a transient one raises ``TransientSendError`` for the queue to retry (``guid`` / ``random_id`` keep VK from
    posting it twice).
    """
    from shared.vk_api import VkApiError

    stored = repository.get_appeal(message.appeal_id)
    reply = (stored or {}).get("outgoing", {}).get(message.reply_id) if stored else None
    if stored is None or reply is None or reply["state"] != "queued":
        return reply["state"] if reply else "missing"
    token = token_of(stored["page_id"])
    ids: dict[str, int] = {}
    error: str | None = None
    error_code: int | None = None
    if token is None:
        error = "no community token is set for the page (PUT /registry/pages/{page_id}/vk-token)"
    else:
        method, params = _vk_call(stored, reply)
        try:
            answer = vk.call(method, params, token=token)
        except VkApiError as failure:
            if failure.transient:
                raise TransientSendError(f"VK error {failure.code}") from None
            error, error_code = failure.reason, failure.code
        else:
            if method == "messages.send":
                ids["message_id"] = int(answer)
            else:
                ids["comment_id"] = int(answer["comment_id"] if isinstance(answer, dict) else answer)
    now = _now(stored["region_code"])
    base = f"outgoing.{message.reply_id}"
    changes: dict[str, Any] = {f"{base}.state": "failed" if error else "sent"}
    entry: HistoryRecord = {"action": "reply_failed" if error else "reply_sent", "at": _iso(now)}
    entry["reply_id"] = message.reply_id
    outbound = None
    if error:
        changes[f"{base}.error"] = error
        entry["error"] = error
    if error_code is not None:
        changes[f"{base}.error_code"] = error_code
    else:
        changes[f"{base}.sent_at"] = _iso(now)
        for name, value in ids.items():
            changes[f"{base}.{name}"] = value
        match: OutboundMatch = {"appeal_id": stored["id"], "reply_id": message.reply_id, "interim": reply["interim"]}
        outbound = (outbound_key(stored, **ids), match)
    for _ in range(WRITE_ATTEMPTS):
        if repository.update_appeal(stored=stored, changes=changes, entries=[entry], outbound=outbound):
            return str(changes[f"{base}.state"])
        fresh = repository.get_appeal(message.appeal_id)
        if fresh is None:
            return "missing"
        stored = fresh
    raise TransientSendError("the appeal kept changing while the reply's state was recorded")


# ---------------------------------------------------------------- community answers (VK callbacks)


def answer_changes(
    *,
    repository: AppealsRepository,
    stored: AppealRecord,
    reply: dict[str, Any],
    sent_at: datetime,
    interim: bool,
    quality: dict[str, Any],
) -> tuple[dict[str, Any], HistoryRecord, bool]:
    """What a community reply does to an appeal: (changes, history entry, thread answered).

    A non-appeal keeps ``no_action`` (its first response is recorded); an interim answer moves the appeal to
    ``interim_answer`` with the final deadline; any other answers it (working minutes, within SLA).
    """
    now = sent_at.astimezone(get_region(stored["region_code"]).zone).replace(microsecond=0)
    status = stored["status"]
    changes: dict[str, Any] = {}
    if status == "no_action" or status not in OPEN_STATUSES:
        target: AppealStatus = status
        changes |= _first_response(repository, stored, now)
        final = True
    elif interim:
        target = status if status == "escalated_59fz" else "interim_answer"
        if status == target:
            changes |= _first_response(repository, stored, now)
        else:
            changes |= _interim(repository, stored, now)
        final = False
    else:
        target = next_status(current=status, action="answer")
        changes |= _final(repository, stored, now)
        final = True
    if "first_response_at" in changes:
        changes |= {"reply": reply | {"sent_at": _iso(now)}, "answer_quality": quality}
    changes["status"] = target
    entry: HistoryRecord = {
        "action": "answered",
        "at": _iso(now),
        "by": "community",
        "old_status": status,
        "new_status": target,
    }
    if reply.get("reply_id"):
        entry |= {"reply_id": reply["reply_id"], "interim": interim}
    return changes, entry, final


def reopen_changes(
    stored: AppealRecord, *, at: datetime, deadline_at: str
) -> tuple[dict[str, Any], HistoryRecord] | None:
    """The citizen wrote again in the thread within ``REOPEN_DAYS`` of the answer: back to ``in_progress``, with
    ``deadline_at`` (the follow-up's own first-response deadline) running."""
    if stored["status"] != "answered" or not stored.get("answered_at"):
        return None
    if at - _at(stored["answered_at"]) > timedelta(days=REOPEN_DAYS):
        return None
    local = at.astimezone(get_region(stored["region_code"]).zone).replace(microsecond=0)
    changes: dict[str, Any] = {"status": next_status(current="answered", action="reopen"), "deadline_at": deadline_at}
    changes |= {"answered_at": None, "answered_within_sla": None, "overdue_at": None}
    entry: HistoryRecord = {
        "action": "reopened",
        "at": _iso(local),
        "by": "author",
        "action_taken": "reopen",
        "old_status": "answered",
        "new_status": "in_progress",
    }
    return changes, entry


# ---------------------------------------------------------------- schedules


def flag_overdue(
    *, repository: AppealsRepository, now: datetime, publish: Callable[[Effects], None], limit: int = 500
) -> int:
    """Flag every open appeal past its running deadline (the sparse ``DEADLINE`` index), once per deadline.

    The notice is published before the flag is written: a crash in between sends it again (same ``notice_id``)
    rather than never. ``appeal.overdue`` is written with the flag (outbox) and dispatched after each round.
    """
    flagged = 0
    for _ in range(MAX_ROUNDS):
        batch = repository.due_appeals(partition="DEADLINE", until=now, limit=min(100, limit - flagged))
        if not batch:
            break
        committed = Effects()
        for stored in batch:
            deadline_at = stored.get("deadline_at")
            if not deadline_at or stored["status"] not in OPEN_STATUSES:
                continue
            publish(Effects(notices=[notice(stored, "appeal.overdue", deadline_at)]))
            overdue = AppealOverdue(**_facts(stored, f"overdue:{stored['id']}:{deadline_at}"), due_at=deadline_at)
            outbox = _outbox([overdue])
            local = now.astimezone(get_region(stored["region_code"]).zone).replace(microsecond=0)
            entry: HistoryRecord = {"action": "overdue", "at": _iso(local)}
            changes = {"overdue_at": _iso(local)}
            if repository.update_appeal(stored=stored, changes=changes, entries=[entry], outbox=outbox):
                flagged += 1
                committed.outbox.append(outbox)
        publish(committed)
        if len(batch) < 100 or flagged >= limit:
            break
    return flagged


def anonymise_closed(*, repository: AppealsRepository, now: datetime, limit: int = 500) -> int:
    """Blank what identifies the citizen in appeals closed long enough ago (the sparse ``ANONYMISE`` index).

    The text (and every version of it in the history), the author's VK id, attachments, the exchange's texts (the
    community's answer, our replies) and, for a message, the dialog: its peer id in ``source`` and ``thread`` and the
    thread entry keyed by it. Labels, deadlines and figures stay.
    """
    done = 0
    for _ in range(MAX_ROUNDS):
        batch = repository.due_appeals(partition="ANONYMISE", until=now, limit=min(100, limit - done))
        if not batch:
            break
        for stored in batch:
            changes = _anonymised(stored, now)
            if stored["source"].get("type") == "message":
                repository.forget_thread_entry(
                    ThreadEntry(thread=stored["thread"], appeal_id=stored["id"], date=stored["vk_date"])
                )
            if repository.update_appeal(stored=stored, changes=changes, entries=[]):
                done += 1
        if len(batch) < 100 or done >= limit:
            break
    return done


def _anonymised(stored: AppealRecord, now: datetime) -> dict[str, Any]:
    """The changes that anonymise an appeal (see ``anonymise_closed``)."""
    history = [
        cast(HistoryRecord, {key: value for key, value in entry.items() if key != "text"})
        for entry in stored.get("history", [])
    ]
    changes: dict[str, Any] = {
        "text": "",
        "author_id": 0,
        "attachments": [],
        "history": history,
        "anonymised_at": _iso(now.astimezone(get_region(stored["region_code"]).zone)),
    }
    if stored["source"].get("type") == "message":
        changes["source"] = {key: value for key, value in stored["source"].items() if key != "peer_id"}
        changes["thread"] = f"message:{stored['source']['group_id']}"
    if stored.get("reply"):
        changes["reply"] = {**stored["reply"], "text": ""}
    for reply_id in stored.get("outgoing", {}):
        changes[f"outgoing.{reply_id}.text"] = ""
    return changes


def notice_body(payload: Notice) -> bytes:
    """The JSON body POSTed to the region's webhook."""
    return json.dumps(payload.model_dump(mode="json"), ensure_ascii=False, sort_keys=True).encode()


def awaiting_first_response(status: AppealStatus) -> bool:
    """Whether the first-response deadline runs in this status."""
    return status in AWAITING_FIRST_RESPONSE
