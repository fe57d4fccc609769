"""DynamoDB layout of the appeals service (one table) and the only module that knows its keys.

Items (``PK`` / ``SK``):

- ``APPEAL#{id}`` / ``APPEAL`` - the appeal; ``id`` is derived from the comment's or message's natural key, so the
  conditional put of the appeal *is* the natural-key dedupe. GSI1 ``REGION#{code}``, GSI2 ``INST#{id}``, GSI4
  ``KIND#{code}#{kind}``, GSI5 ``RUBRIC#{code}#{rubric}`` (appeals only) and GSI6 ``URGENT#{code}`` (urgent ones
  only), all sorted by ``{received_at UTC}#{id}``; GSI3 ``CORRECTED#{code}`` sorted by ``{corrected_at UTC}#{id}``
  (corrected ones only: the label export); the workflow's indexes: GSI7 ``OPEN#{code}`` (open appeals with a
  running deadline, sorted by ``{deadline UTC}#{id}``: the work queue, most urgent first), GSI8 ``DEADLINE`` (open,
  not yet flagged overdue: what the overdue schedule reads), ``OVERDUE`` (open and flagged) or ``ANONYMISE``
  (closed, text kept until the instant in the sort key), all sparse and sorted by ``{instant UTC}#{id}``, and GSI9
  ``STATUS#{status}`` (every appeal, by received: national lists by status).
- ``TRIAGE#{code}`` / ``DAY#{local date}`` - the region's classifier counters of a day (``assigned:{label}:{class}``
  by the day an appeal was received, ``corrected_from:...`` / ``corrected_to:...`` by the day of the correction),
  added in the transaction of the appeal's write, so a redelivered event counts once.
- ``EVENT#{group_id}#{event_id}`` / ``EVENT`` - VK event seen, put in every effect's transaction (TTL 72 h), or
  alone with its ``outcome`` when it had no effect: ``ignored``, or ``rejected`` with a ``reason`` (TTL 14 days,
  as long as a dead letter would have been kept).
- ``THREAD#{thread}`` / ``{date}#{id}`` - appeals of a post/topic/photo/video/item or dialog in VK order, so a
  community reply can find the earliest unanswered one (``no_action`` marks a non-appeal, which it skips).
- ``REPLY#{id}`` / ``REPLY`` - a community reply already applied (its natural-key dedupe), with the ``appeal_id``
  it answered, if any (so a redelivered reply can re-emit that appeal's event).
- ``PAGE#{page_id}`` / ``PAGE`` and ``GROUP#{group_id}`` / ``PAGE`` - the projection of registry pages, by id and
  by VK community (newest ``revision`` wins).
- ``INSTITUTION#{id}`` / ``INSTITUTION`` - the projection of registry institutions: their region, for scoping lists
  (newest ``revision`` wins).
- ``POLICY#{code}`` / ``POLICY`` - a region's deadline policy and notification webhook URL (the secret is in the
  secret store).
- ``OUTBOUND#{key}`` / ``OUTBOUND`` - a reply we sent, by what VK's echo will carry (the comment's natural key, or
  ``message:{group_id}:id:{message_id}``): the echo is matched to it, not counted as another answer.
- ``OUTBOX#{0..15}`` / ``{created_at}#{uuid}`` - appeal events of a workflow change, written in its transaction
  and deleted once published (``shared.outbox``; ``AppealsOutboxFunction`` relays leftovers).

Only Get/Put/Update/Delete/Query and ``TransactWriteItems`` (through ``shared.transactions``); no Scan.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict, cast

from shared.dynamo import decode_cursor, deserialize, encode_cursor, is_conditional_failure, serialize, serialize_value
from shared.outbox import OutboxRecord, delete_records, records_before, transaction_put
from shared.transactions import ConditionFailed, transact_write
from shared.ttl_cache import TtlCache

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from services.appeals.lifecycle import AppealStatus
    from services.appeals.models import (
        Actor,
        AppealKind,
        AppealPriority,
        DeletedBy,
        HistoryAction,
    )

EVENT_TTL_SECONDS = 72 * 3600
REJECTED_EVENT_TTL_SECONDS = 14 * 86400
MAX_LIST_QUERIES = 5
PAGE_SK = "PAGE"
_LABEL_INDEXES = ("GSI4", "GSI5", "GSI6")
_APPEAL_STORAGE_ATTRIBUTES = frozenset(
    {"PK", "SK", "entity", "thread_sk", "deadline_epoch"}
    | {f"GSI{number}{part}" for number in range(1, 10) for part in ("PK", "SK")}
)
OPEN_STATUSES = frozenset({"new", "in_progress", "interim_answer", "forwarded", "escalated_59fz"})
_WORKFLOW_KEYS = ("GSI7PK", "GSI7SK", "GSI8PK", "GSI8SK", "GSI9PK", "GSI9SK", "deadline_epoch")
STATS_MEASURES = ("assigned", "corrected_from", "corrected_to")
_NEWER_REVISION = "attribute_not_exists(PK) OR revision <= :revision"
_OWNED_BY_PAGE = "attribute_not_exists(PK) OR page_id = :page_id"
_APPEND_HISTORY = "history = list_append(if_not_exists(history, :empty), :entry)"

ChangeOutcome = Literal["applied", "duplicate", "no_appeal", "changed_meanwhile"]
AnswerOutcome = Literal["applied", "duplicate", "answered_concurrently"]
SeenOutcome = Literal["applied", "ignored", "rejected"]


@dataclass(frozen=True, slots=True)
class PageRef:
    """What the appeals service knows about a registered VK page."""

    page_id: str
    institution_id: str
    region_code: str
    group_id: int
    status: str
    revision: int
    secret_salt: str | None = None
    secret_hash: str | None = None
    confirmation_code: str | None = None

    @property
    def active(self) -> bool:
        """True unless the page is archived."""
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class SeenEvent:
    """A VK event whose dedupe marker is written in the same transaction as its effect."""

    group_id: int
    event_id: str
    type: str


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """An appeal's place in its VK thread (post, topic, photo, video, item or dialog)."""

    thread: str
    appeal_id: str
    date: int  # the appeal's VK timestamp: entries are in VK order


@dataclass(frozen=True, slots=True)
class Answer:
    """A community reply's effect on an appeal: attribute changes (``None``: removed), written only if the appeal
    still has the status read (``stored``); ``final``: the thread entry counts as answered."""

    stored: AppealRecord
    changes: Mapping[str, Any]
    entry: HistoryRecord
    final: bool


class LabelsRecord(TypedDict):
    """Stored labels of an appeal (in its history)."""

    kind: AppealKind
    rubric: NotRequired[str]
    priority: AppealPriority


class TriageRecord(TypedDict):
    """The classifier's stored labels of an appeal's current text."""

    kind: AppealKind
    rubric: NotRequired[str]
    priority: AppealPriority
    obscene: bool
    confidence: float
    classifier_version: str
    at: str


class AnswerQualityRecord(TypedDict):
    """The stored rating of the community's first answer."""

    score: int
    flags: list[str]


class HistoryRecord(TypedDict):
    """One stored change of an appeal (``created``, ``edited``, ``classified``, ``answered``, ...)."""

    action: HistoryAction
    at: str
    text: NotRequired[str]
    by: NotRequired[Actor]
    actor: NotRequired[str]
    old_status: NotRequired[AppealStatus]
    new_status: NotRequired[AppealStatus]
    old: NotRequired[LabelsRecord]
    new: NotRequired[LabelsRecord]
    classifier_version: NotRequired[str]
    action_taken: NotRequired[str]
    institution_id: NotRequired[str]
    reply_id: NotRequired[str]
    interim: NotRequired[bool]
    error: NotRequired[str]
    registration_number: NotRequired[str]
    extension_days: NotRequired[int]
    reason: NotRequired[str]


class FormalRecord(TypedDict):
    """An appeal's 59-ФЗ track as stored (``formal``)."""

    escalated_at: str
    registration_due_at: str
    registration_number: NotRequired[str]
    registered_at: NotRequired[str]
    answer_due_at: NotRequired[str]
    extension_days: NotRequired[int]
    extension_reason: NotRequired[str]
    extended_at: NotRequired[str]


@dataclass(frozen=True, slots=True)
class Labels:
    """An appeal's kind, rubric (appeals only) and priority."""

    kind: AppealKind
    rubric: str | None = None
    priority: AppealPriority = "normal"

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> Labels:
        """The labels of a stored appeal or triage (older appeals have no priority: normal)."""
        return cls(kind=stored["kind"], rubric=stored.get("rubric"), priority=stored.get("priority", "normal"))

    @property
    def classes(self) -> dict[str, str]:
        """The class of each label the counters count: the kind, and an appeal's rubric and priority."""
        if self.kind != "appeal":
            return {"kind": self.kind}
        return {"kind": self.kind, "priority": self.priority} | ({"rubric": self.rubric} if self.rubric else {})

    def record(self) -> LabelsRecord:
        stored: LabelsRecord = {"kind": self.kind, "priority": self.priority}
        if self.rubric is not None:
            stored["rubric"] = self.rubric
        return stored


@dataclass(frozen=True, slots=True)
class Relabel:
    """New labels (and the status they imply) of a stored appeal, written only if it still has those read.

    ``triage``: the classifier's labels of a new text (a re-classification); ``corrected``: an operator's change.
    """

    stored: AppealRecord
    labels: Labels
    status: AppealStatus
    at: datetime
    entry: HistoryRecord | None = None
    triage: TriageRecord | None = None
    corrected: bool = False
    workflow: Mapping[str, Any] = dataclass_field(default_factory=dict)


class AttachmentRecord(TypedDict):
    """A stored attachment: its VK type and the public ids and link of the attached object."""

    type: str
    owner_id: NotRequired[int]
    id: NotRequired[int]
    url: NotRequired[str]


class InstitutionRecord(TypedDict):
    """What the appeals service knows about a registry institution: the region its appeals belong to, and the
    time zone it keeps instead of its region's (if it does)."""

    institution_id: str
    region_code: str
    revision: int
    time_zone: NotRequired[str]


class SeenRecord(TypedDict):
    """A stored dedupe marker: what became of a VK event (``reason`` for a rejected one; never personal data)."""

    type: str
    outcome: SeenOutcome
    reason: NotRequired[str]


class OutgoingRecord(TypedDict):
    """A reply written in the system, as stored on its appeal (``outgoing``, by reply id)."""

    reply_id: str
    text: str
    interim: bool
    state: str
    queued_at: str
    actor: NotRequired[str]
    error: NotRequired[str]
    error_code: NotRequired[int]
    sent_at: NotRequired[str]
    comment_id: NotRequired[int]
    message_id: NotRequired[int]


class PolicyRecord(TypedDict):
    """A region's stored deadline policy and webhook URL."""

    region_code: str
    mode: str
    hours: int
    final_days: int
    extra_days_off: list[str]
    webhook_url: NotRequired[str]
    webhook_secret_set: NotRequired[bool]
    updated_at: NotRequired[str]
    updated_by: NotRequired[str]


class OutboundMatch(TypedDict):
    """The reply of ours a VK echo carries."""

    appeal_id: str
    reply_id: str
    interim: bool


class AppealQuery(TypedDict):
    """One list of appeals: of an institution (else of a region) inside the caller's scope, narrowed by filters."""

    region_code: str
    institution_id: str | None
    page_id: str | None
    status: AppealStatus | None
    kind: AppealKind | None
    rubric: str | None
    priority: AppealPriority | None
    overdue: bool | None
    assigned_institution: str | None
    due_before: datetime | None
    sort: str
    national: bool
    received_from: datetime | None
    received_to: datetime | None


class AppealRecord(TypedDict):
    """A stored appeal: the fields of the API's ``Appeal`` plus its VK thread and event."""

    id: str
    page_id: str
    institution_id: str
    region_code: str
    source: dict[str, str | int]
    author_id: int
    text: str
    attachments: list[AttachmentRecord]
    received_at: str
    vk_date: int
    status: AppealStatus
    kind: AppealKind
    deleted: bool
    history: list[HistoryRecord]
    event_id: str
    thread: str
    rubric: NotRequired[str]
    priority: NotRequired[AppealPriority]
    obscene: NotRequired[bool]
    triage: NotRequired[TriageRecord]
    corrected_at: NotRequired[str]
    answer_quality: NotRequired[AnswerQualityRecord]
    deleted_by: NotRequired[DeletedBy]
    first_response_at: NotRequired[str]
    reply: NotRequired[dict[str, str | int | bool]]
    response_elapsed_minutes: NotRequired[int]
    due_at: NotRequired[str]
    final_due_at: NotRequired[str]
    deadline_at: NotRequired[str]
    overdue_at: NotRequired[str]
    assigned_institution_id: NotRequired[str]
    answered_at: NotRequired[str]
    closed_at: NotRequired[str]
    anonymise_at: NotRequired[str]
    anonymised_at: NotRequired[str]
    response_working_minutes: NotRequired[int]
    answered_within_sla: NotRequired[bool]
    outgoing: NotRequired[dict[str, OutgoingRecord]]
    formal: NotRequired[FormalRecord]
    time_zone: NotRequired[str]


@dataclass(frozen=True, slots=True)
class AppealRecords:
    """One page of stored appeals, newest first, and the cursor of the next one."""

    items: list[AppealRecord]
    next_cursor: str | None


def _appeal_key(appeal_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"APPEAL#{appeal_id}"}, "SK": {"S": "APPEAL"}}


def _thread_key(entry: ThreadEntry) -> dict[str, Any]:
    return {"PK": {"S": f"THREAD#{entry.thread}"}, "SK": {"S": _thread_sort_key(entry.date, entry.appeal_id)}}


def _thread_sort_key(date: int, appeal_id: str) -> str:
    return f"{date:012d}#{appeal_id}"


def _group_key(group_id: int) -> dict[str, Any]:
    return {"PK": {"S": f"GROUP#{group_id}"}, "SK": {"S": PAGE_SK}}


def _page_key(page_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"PAGE#{page_id}"}, "SK": {"S": PAGE_SK}}


def _institution_key(institution_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"INSTITUTION#{institution_id}"}, "SK": {"S": "INSTITUTION"}}


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stored(moment: datetime) -> str:
    """An instant as stored: ISO 8601 to the second, in the zone the service gave it (the region's)."""
    return moment.isoformat(timespec="seconds")


def _received_sort_key(record: AppealRecord) -> str:
    return f"{_utc(datetime.fromtimestamp(record['vk_date'], tz=UTC))}#{record['id']}"


def _history_values(*entries: HistoryRecord) -> dict[str, Any]:
    return {":empty": {"L": []}, ":entry": {"L": [serialize_value(entry) for entry in entries]}}


def _label_keys(region_code: str, labels: Labels, received: str) -> dict[str, str | None]:
    """The label indexes' keys of an appeal (``None``: not in that sparse index)."""
    rubric = labels.rubric if labels.kind == "appeal" else None
    urgent = labels.kind == "appeal" and labels.priority == "urgent"
    return {
        "GSI4PK": f"KIND#{region_code}#{labels.kind}",
        "GSI4SK": received,
        "GSI5PK": f"RUBRIC#{region_code}#{rubric}" if rubric else None,
        "GSI5SK": received if rubric else None,
        "GSI6PK": f"URGENT#{region_code}" if urgent else None,
        "GSI6SK": received if urgent else None,
    }


def _workflow_keys(record: Mapping[str, Any]) -> dict[str, Any]:
    """The workflow indexes' keys and ``deadline_epoch`` of an appeal's state (``None``: not in that index)."""
    status, region, appeal_id = record["status"], record["region_code"], record["id"]
    deadline = record.get("deadline_at") if status in OPEN_STATUSES else None
    keys: dict[str, Any] = dict.fromkeys(_WORKFLOW_KEYS)
    keys["GSI2PK"] = f"INST#{record.get('assigned_institution_id') or record['institution_id']}"
    keys["GSI9PK"] = f"STATUS#{status}"
    keys["GSI9SK"] = f"{_utc(datetime.fromtimestamp(record['vk_date'], tz=UTC))}#{appeal_id}"
    if deadline:
        due = datetime.fromisoformat(deadline)
        keys |= {
            "GSI7PK": f"OPEN#{region}",
            "GSI7SK": f"{_utc(due)}#{appeal_id}",
            "GSI8PK": "OVERDUE" if record.get("overdue_at") else "DEADLINE",
            "GSI8SK": f"{_utc(due)}#{appeal_id}",
            "deadline_epoch": int(due.timestamp()),
        }
    elif status == "closed" and record.get("anonymise_at") and not record.get("anonymised_at"):
        keys |= {"GSI8PK": "ANONYMISE", "GSI8SK": f"{_utc(datetime.fromisoformat(record['anonymise_at']))}#{appeal_id}"}
    return keys


def _local_day(instant: str) -> date:
    """The day of a stored instant in the zone it was stored in (the region's)."""
    return datetime.fromisoformat(instant).date()


def _assigned(labels: Labels, delta: int) -> dict[str, int]:
    return {f"assigned:{label}:{value}": delta for label, value in labels.classes.items()}


def _corrections(old: Labels, new: Labels) -> dict[str, int]:
    """Counters of a correction: the kind, and rubric and priority between appeals."""
    before, after = old.classes, new.classes
    counts: dict[str, int] = {}
    for label in ("kind", "rubric", "priority"):
        if label in before and label in after and before[label] != after[label]:
            counts[f"corrected_from:{label}:{before[label]}"] = 1
            counts[f"corrected_to:{label}:{after[label]}"] = 1
    return counts


def _unchanged_since_read(stored: AppealRecord) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A condition that the appeal still has the labels and status it had when read."""
    clauses = ["attribute_exists(PK)"]
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field in ("kind", "rubric", "priority", "status"):
        names[f"#{field}"] = field
        value = cast("dict[str, Any]", stored).get(field)
        if value is None:
            clauses.append(f"attribute_not_exists(#{field})")
        else:
            clauses.append(f"#{field} = :was_{field}")
            values[f":was_{field}"] = {"S": value}
    return " AND ".join(clauses), names, values


def _page_ref(item: dict[str, Any]) -> PageRef:
    data = deserialize(item)
    return PageRef(
        page_id=data["page_id"],
        institution_id=data["institution_id"],
        region_code=data["region_code"],
        group_id=int(data["group_id"]),
        status=data["status"],
        revision=int(data["revision"]),
        secret_salt=data.get("secret_salt"),
        secret_hash=data.get("secret_hash"),
        confirmation_code=data.get("confirmation_code"),
    )


def _appeal_record(item: dict[str, Any]) -> AppealRecord:
    data = deserialize(item)
    return cast(AppealRecord, {key: value for key, value in data.items() if key not in _APPEAL_STORAGE_ATTRIBUTES})


class AppealsRepository:
    """Appeals, their VK threads, seen events and the page and institution projections in one DynamoDB table."""

    def __init__(self, *, client: DynamoDBClient, table: str, cache_ttl_seconds: float = 0.0) -> None:
        self.client = client
        self.table = table
        self._pages: TtlCache[int, PageRef | None] = TtlCache(
            load=lambda group_id: self.read_page_by_group(group_id), ttl_seconds=cache_ttl_seconds
        )
        self._policies: TtlCache[str, PolicyRecord | None] = TtlCache(
            load=lambda region_code: self.read_policy(region_code), ttl_seconds=cache_ttl_seconds
        )
        self._institutions: TtlCache[str, InstitutionRecord | None] = TtlCache(
            load=lambda institution_id: self.read_institution(institution_id), ttl_seconds=cache_ttl_seconds
        )

    # ------------------------------------------------------------ hot-path reads, each kept cache_ttl_seconds

    def cached_page_by_group(self, group_id: int) -> PageRef | None:
        """``read_page_by_group`` through the process's cache (the webhook and the ingest worker, per event)."""
        return self._pages.get(group_id)

    def cached_policy(self, region_code: str) -> PolicyRecord | None:
        """``read_policy`` through the process's cache (deadlines of every new appeal); ``put_policy`` forgets it."""
        return self._policies.get(region_code)

    def cached_institution(self, institution_id: str) -> InstitutionRecord | None:
        """``read_institution`` through the process's cache (an appeal's time zone); projecting it forgets it."""
        return self._institutions.get(institution_id)

    # ------------------------------------------------------------ appeals: writes (one transaction per VK event)

    def _seen(self, event: SeenEvent, *, outcome: SeenOutcome = "applied", reason: str | None = None) -> dict[str, Any]:
        ttl = REJECTED_EVENT_TTL_SECONDS if outcome == "rejected" else EVENT_TTL_SECONDS
        item = {
            "PK": f"EVENT#{event.group_id}#{event.event_id}",
            "SK": "EVENT",
            "type": event.type,
            "outcome": outcome,
            "reason": reason,
            "expires_at": int(time.time()) + ttl,
        }
        return {
            "Put": {"TableName": self.table, "Item": serialize(item), "ConditionExpression": "attribute_not_exists(PK)"}
        }

    def record_appeal(self, *, appeal: AppealRecord, root: int | None, event: SeenEvent) -> bool:
        """Store a new appeal and its thread entry (``root``: its comment thread) once per event and natural key.

        True if stored; False if the event or the appeal was already there.
        """
        received = _received_sort_key(appeal)
        labels = Labels.of(appeal)
        item = {
            **appeal,
            "entity": "appeal",
            "thread_sk": _thread_sort_key(appeal["vk_date"], appeal["id"]),
            "GSI1PK": f"REGION#{appeal['region_code']}",
            "GSI1SK": received,
            "GSI2PK": f"INST#{appeal['institution_id']}",
            "GSI2SK": received,
            **_label_keys(appeal["region_code"], labels, received),
            **_workflow_keys(appeal),
        }
        entry = ThreadEntry(thread=appeal["thread"], appeal_id=appeal["id"], date=appeal["vk_date"])
        thread = {
            "appeal_id": appeal["id"],
            "root": root,
            "no_action": True if appeal["status"] == "no_action" else None,
        }
        items = [
            self._seen(event),
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {**_appeal_key(appeal["id"]), **serialize(item)},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {"Put": {"TableName": self.table, "Item": {**_thread_key(entry), **serialize(thread)}}},
        ]
        if "triage" in appeal:
            counters = _assigned(Labels.of(appeal["triage"]), 1)
            items.append(self._count(appeal["region_code"], _local_day(appeal["received_at"]), counters))
        try:
            transact_write(self.client, items)
        except ConditionFailed:
            return False
        return True

    def _count(self, region_code: str, day: date, counters: Mapping[str, int]) -> dict[str, Any]:
        """An update adding ``counters`` to the region's classifier counters of ``day``."""
        names = {f"#c{index}": name for index, name in enumerate(counters)}
        values = {f":c{index}": {"N": str(delta)} for index, delta in enumerate(counters.values())}
        added = ", ".join(f"#c{index} :c{index}" for index in range(len(counters)))
        return {
            "Update": {
                "TableName": self.table,
                "Key": serialize({"PK": f"TRIAGE#{region_code}", "SK": f"DAY#{day.isoformat()}"}),
                "UpdateExpression": f"ADD {added} SET entity = :stats",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {**values, ":stats": {"S": "triage_stats"}},
            }
        }

    def _relabel_items(self, relabel: Relabel, *, extra: list[HistoryRecord]) -> list[dict[str, Any]]:
        """The appeal's update (conditional on what was read), its thread entry's and its counters'."""
        stored = relabel.stored
        condition, names, values = _unchanged_since_read(stored)
        values |= {
            ":kind": {"S": relabel.labels.kind},
            ":status": {"S": relabel.status},
            ":priority": {"S": relabel.labels.priority},
        }
        assignments = ["#kind = :kind", "#status = :status", "#priority = :priority"]
        removals: list[str] = []
        if relabel.labels.rubric is None:
            removals.append("#rubric")
        else:
            assignments.append("#rubric = :rubric")
            values[":rubric"] = {"S": relabel.labels.rubric}
        workflow = {**relabel.workflow, "status": relabel.status}
        for name, value in workflow.items():
            if name == "status":
                continue
            if value is None:
                removals.append(name)
            else:
                assignments.append(f"{name} = :w_{name}")
                values[f":w_{name}"] = serialize_value(value)
        for key, value in _workflow_keys({**stored, **workflow}).items():
            if value is None:
                removals.append(key)
            else:
                assignments.append(f"{key} = :{key}")
                values[f":{key}"] = serialize_value(value)
        received = _received_sort_key(stored)
        for key, value in _label_keys(stored["region_code"], relabel.labels, received).items():
            if value is None:
                removals.append(key)
            else:
                assignments.append(f"{key} = :{key}")
                values[f":{key}"] = {"S": value}
        if relabel.triage is not None:
            assignments += ["triage = :triage", "obscene = :obscene"]
            values[":triage"] = serialize_value(relabel.triage)
            values[":obscene"] = {"BOOL": relabel.triage["obscene"]}
        if relabel.corrected:
            corrected = f"{_utc(relabel.at)}#{stored['id']}"
            assignments += ["corrected_at = :corrected_at", "GSI3PK = :gsi3pk", "GSI3SK = :gsi3sk"]
            values |= {
                ":corrected_at": {"S": _stored(relabel.at)},
                ":gsi3pk": {"S": f"CORRECTED#{stored['region_code']}"},
                ":gsi3sk": {"S": corrected},
            }
        entries = [*extra, *([relabel.entry] if relabel.entry is not None else [])]
        if entries:
            assignments.append(_APPEND_HISTORY)
            values |= _history_values(*entries)
        update = {
            "TableName": self.table,
            "Key": _appeal_key(stored["id"]),
            "ConditionExpression": condition,
            "UpdateExpression": f"SET {', '.join(assignments)}"
            + (f" REMOVE {', '.join(removals)}" if removals else ""),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        thread = ThreadEntry(thread=stored["thread"], appeal_id=stored["id"], date=stored["vk_date"])
        thread_update: dict[str, Any] = {"TableName": self.table, "Key": _thread_key(thread)}
        if relabel.status == "no_action":
            thread_update |= {
                "UpdateExpression": "SET no_action = :true",
                "ExpressionAttributeValues": {":true": {"BOOL": True}},
            }
        else:
            thread_update["UpdateExpression"] = "REMOVE no_action"
        items: list[dict[str, Any]] = [{"Update": update}, {"Update": thread_update}]
        if relabel.triage is not None:
            model = Labels.of(relabel.triage)
            before = Labels.of(stored["triage"]) if "triage" in stored else None
            if before != model:
                counters = _assigned(model, 1)
                for name, delta in (_assigned(before, -1) if before is not None else {}).items():
                    counters[name] = counters.get(name, 0) + delta
                if changed := {name: delta for name, delta in counters.items() if delta}:
                    items.append(self._count(stored["region_code"], _local_day(stored["received_at"]), changed))
        if relabel.corrected and (counters := _corrections(Labels.of(stored), relabel.labels)):
            items.append(self._count(stored["region_code"], relabel.at.date(), counters))
        return items

    def edit_appeal(
        self, *, text: str, attachments: list[AttachmentRecord], relabel: Relabel, event: SeenEvent
    ) -> ChangeOutcome:
        """Replace the appeal's text and attachments (every text version kept in ``history``) and its labels.

        ``changed_meanwhile``: the appeal's labels or status changed since ``relabel.stored`` was read.
        """
        edited: HistoryRecord = {"action": "edited", "at": _stored(relabel.at), "text": text}
        appeal, *rest = self._relabel_items(relabel, extra=[edited])
        update = appeal["Update"]
        update["UpdateExpression"] = update["UpdateExpression"].replace(
            "SET ", "SET #text = :text, attachments = :attachments, ", 1
        )
        update["ExpressionAttributeNames"]["#text"] = "text"
        update["ExpressionAttributeValues"] |= {":text": {"S": text}, ":attachments": serialize_value(attachments)}
        try:
            transact_write(self.client, [self._seen(event), appeal, *rest])
        except ConditionFailed as failure:
            if failure.failed(0) or not failure.failed(1):
                return "duplicate"
            return "changed_meanwhile" if self.get_appeal(relabel.stored["id"]) else "no_appeal"
        return "applied"

    def correct_appeal(self, relabel: Relabel) -> bool:
        """Write an operator's correction; False if the appeal changed since ``relabel.stored`` was read."""
        try:
            transact_write(self.client, self._relabel_items(relabel, extra=[]))
        except ConditionFailed:
            return False
        return True

    def delete_appeal(self, *, appeal_id: str, by: DeletedBy, deleted_at: datetime, event: SeenEvent) -> ChangeOutcome:
        """Mark the appeal deleted by its author or by the community."""
        return self._change_appeal(
            appeal_id=appeal_id,
            event=event,
            entry={"action": "deleted", "at": _stored(deleted_at), "by": by},
            assignments="deleted = :true, deleted_by = :by",
            values={":true": {"BOOL": True}, ":by": {"S": by}},
        )

    def restore_appeal(self, *, appeal_id: str, restored_at: datetime, event: SeenEvent) -> ChangeOutcome:
        """Undo the appeal's deletion."""
        return self._change_appeal(
            appeal_id=appeal_id,
            event=event,
            entry={"action": "restored", "at": _stored(restored_at)},
            assignments="deleted = :false",
            values={":false": {"BOOL": False}},
            removals="deleted_by",
        )

    def _change_appeal(
        self,
        *,
        appeal_id: str,
        event: SeenEvent,
        entry: HistoryRecord,
        assignments: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
        removals: str | None = None,
    ) -> ChangeOutcome:
        """Update a stored appeal and append ``entry`` to its history, with the event's dedupe marker."""
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": _appeal_key(appeal_id),
            "ConditionExpression": "attribute_exists(PK)",
            "UpdateExpression": f"SET {assignments}, {_APPEND_HISTORY}" + (f" REMOVE {removals}" if removals else ""),
            "ExpressionAttributeValues": {**values, **_history_values(entry)},
        }
        if names:
            update["ExpressionAttributeNames"] = names
        try:
            transact_write(self.client, [self._seen(event), {"Update": update}])
        except ConditionFailed as failure:
            return "no_appeal" if failure.failed(1) and not failure.failed(0) else "duplicate"
        return "applied"

    def acknowledge_event(self, event: SeenEvent) -> None:
        """Remember an event that had no effect, so its retries are recognised as duplicates."""
        self._put_seen(self._seen(event, outcome="ignored"))

    def reject_event(self, event: SeenEvent, *, reason: str) -> None:
        """Remember an event this service cannot use, with the reason (field names, never personal data)."""
        self._put_seen(self._seen(event, outcome="rejected", reason=reason))

    def _put_seen(self, marker: dict[str, Any]) -> None:
        try:
            self.client.put_item(**marker["Put"])
        except Exception as error:  # botocore's ClientError; a seen event is fine
            if not is_conditional_failure(error):
                raise

    def read_seen_event(self, *, group_id: int, event_id: str) -> SeenRecord | None:
        """What became of a VK event (``None`` if it was never seen or its marker expired)."""
        key = serialize({"PK": f"EVENT#{group_id}#{event_id}", "SK": "EVENT"})
        item = self.client.get_item(TableName=self.table, Key=key).get("Item")
        if item is None:
            return None
        data = deserialize(item)
        record: SeenRecord = {"type": data["type"], "outcome": data.get("outcome", "applied")}
        if "reason" in data:
            record["reason"] = data["reason"]
        return record

    def answer_appeal(self, *, reply_id: str, answer: Answer | None, event: SeenEvent) -> AnswerOutcome:
        """Store a community reply once, with its ``answer`` to an appeal (first response only) if it has one.

        The answered appeal's history records the status change (``new`` -> ``answered``, by the community; a
        ``no_action`` one stays so); the write needs the status read and no earlier response.
        """
        reply = {"PK": f"REPLY#{reply_id}", "SK": "REPLY", "entity": "reply"}
        if answer is not None:
            reply["appeal_id"] = answer.stored["id"]
        items: list[dict[str, Any]] = [
            self._seen(event),
            {
                "Put": {
                    "TableName": self.table,
                    "Item": serialize(reply),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        if answer is not None:
            stored = answer.stored
            update = self._appeal_update(stored, answer.changes, [answer.entry])
            items.append({"Update": update})
            if answer.final:
                target = ThreadEntry(thread=stored["thread"], appeal_id=stored["id"], date=stored["vk_date"])
                items.append(
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _thread_key(target),
                            "UpdateExpression": "SET answered_at = :at",
                            "ExpressionAttributeValues": {":at": {"S": answer.entry["at"]}},
                        }
                    }
                )
        try:
            transact_write(self.client, items)
        except ConditionFailed as failure:
            concurrent = failure.failed(2) and not (failure.failed(0) or failure.failed(1))
            return "answered_concurrently" if concurrent else "duplicate"
        return "applied"

    def replied_appeal(self, reply_id: str) -> str | None:
        """The id of the appeal a stored community reply was applied to (``None``: to none, or not stored)."""
        key = serialize({"PK": f"REPLY#{reply_id}", "SK": "REPLY"})
        item = self.client.get_item(TableName=self.table, Key=key).get("Item")
        return deserialize(item).get("appeal_id") if item else None

    # ------------------------------------------------------------ workflow: one conditional update per change

    def _appeal_update(
        self, stored: AppealRecord, changes: Mapping[str, Any], entries: list[HistoryRecord]
    ) -> dict[str, Any]:
        """An update of the appeal to ``changes`` (``None``: removed) with its workflow keys and history entries,
        conditional on the status read; nested ``outgoing.{reply_id}.{field}`` names set one reply's field."""
        names: dict[str, str] = {"#status": "status"}
        values: dict[str, Any] = {":read_status": {"S": stored["status"]}}
        assignments: list[str] = []
        removals: list[str] = []
        for index, (name, value) in enumerate(changes.items()):
            parts = name.split(".")
            path = ".".join(f"#n{index}_{depth}" for depth in range(len(parts)))
            names |= {f"#n{index}_{depth}": part for depth, part in enumerate(parts)}
            if value is None:
                removals.append(path)
            else:
                assignments.append(f"{path} = :v{index}")
                values[f":v{index}"] = serialize_value(value)
        merged = {**stored, **{name: value for name, value in changes.items() if "." not in name}}
        for key, value in _workflow_keys(merged).items():
            if value is None:
                removals.append(key)
            else:
                assignments.append(f"{key} = :{key}")
                values[f":{key}"] = serialize_value(value)
        if entries:
            assignments.append(_APPEND_HISTORY)
            values |= _history_values(*entries)
        expression = f"SET {', '.join(assignments)}" + (f" REMOVE {', '.join(removals)}" if removals else "")
        return {
            "TableName": self.table,
            "Key": _appeal_key(stored["id"]),
            "ConditionExpression": "attribute_exists(PK) AND #status = :read_status",
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }

    def update_appeal(
        self,
        *,
        stored: AppealRecord,
        changes: Mapping[str, Any],
        entries: list[HistoryRecord],
        thread_answered: bool | None = None,
        outbound: tuple[str, OutboundMatch] | None = None,
        event: SeenEvent | None = None,
        outbox: OutboxRecord | None = None,
    ) -> bool:
        """Apply a workflow change to an appeal if its status is still the one read; False if it changed.

        ``thread_answered`` marks (True) or clears (False) its thread entry's answered mark; ``outbound`` records
        the VK key of a reply we sent, for its echo; ``outbox`` holds the change's events, written in the same
        transaction (``shared.outbox``: the caller dispatches them after the commit).
        """
        items: list[dict[str, Any]] = [{"Update": self._appeal_update(stored, changes, entries)}]
        if event is not None:
            items.append(self._seen(event))
        if thread_answered is not None:
            entry = ThreadEntry(thread=stored["thread"], appeal_id=stored["id"], date=stored["vk_date"])
            thread: dict[str, Any] = {"TableName": self.table, "Key": _thread_key(entry)}
            if thread_answered:
                thread |= {
                    "UpdateExpression": "SET answered_at = :at",
                    "ExpressionAttributeValues": {":at": {"S": _stored(datetime.now(UTC))}},
                }
            else:
                thread["UpdateExpression"] = "REMOVE answered_at"
            items.append({"Update": thread})
        if outbound is not None:
            key, match = outbound
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": serialize({"PK": f"OUTBOUND#{key}", "SK": "OUTBOUND", "entity": "outbound", **match}),
                    }
                }
            )
        if outbox is not None:
            items.append(transaction_put(self.table, outbox))
        try:
            transact_write(self.client, items)
        except ConditionFailed:
            return False
        return True

    # ------------------------------------------------------------ outbox (``shared.outbox``)

    def outbox_before(self, created_before: str) -> Iterator[OutboxRecord]:
        """Outbox records created before an ISO 8601 UTC time, shard by shard."""
        return records_before(self.client, self.table, created_before)

    def delete_outbox(self, records: Iterable[OutboxRecord]) -> None:
        """Forget outbox records whose events are published."""
        delete_records(self.client, self.table, records)

    def read_outbound(self, key: str) -> OutboundMatch | None:
        """The reply of ours VK's echo with this key carries (``None``: not one we recorded)."""
        item = self.client.get_item(
            TableName=self.table, Key=serialize({"PK": f"OUTBOUND#{key}", "SK": "OUTBOUND"})
        ).get("Item")
        if item is None:
            return None
        data = deserialize(item)
        return {"appeal_id": data["appeal_id"], "reply_id": data["reply_id"], "interim": bool(data.get("interim"))}

    def due_appeals(self, *, partition: str, until: datetime, limit: int = 100) -> list[AppealRecord]:
        """Appeals of a GSI8 partition (``DEADLINE``, ``OVERDUE``, ``ANONYMISE``) up to ``until``, earliest first."""
        result = self.client.query(
            TableName=self.table,
            IndexName="GSI8",
            KeyConditionExpression="GSI8PK = :pk AND GSI8SK < :until",
            ExpressionAttributeValues={":pk": {"S": partition}, ":until": {"S": _utc(until) + "~"}},
            Limit=limit,
        )
        return [_appeal_record(item) for item in result.get("Items", [])]

    def forget_thread_entry(self, entry: ThreadEntry) -> None:
        """Delete an appeal's place in its VK thread (anonymisation: a dialog's key holds the citizen's VK id)."""
        self.client.delete_item(TableName=self.table, Key=_thread_key(entry))

    def previous_in_thread(self, *, thread: str, before: int, limit: int = 20) -> list[ThreadEntry]:
        """The thread's answered appeals before VK time ``before``, latest first."""
        result = self.client.query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND SK < :before",
            FilterExpression="attribute_exists(answered_at)",
            ExpressionAttributeValues={
                ":pk": {"S": f"THREAD#{thread}"},
                ":before": {"S": _thread_sort_key(before, "")},
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        entries = []
        for item in result.get("Items", []):
            found = deserialize(item)
            entries.append(
                ThreadEntry(thread=thread, appeal_id=found["appeal_id"], date=int(found["SK"].partition("#")[0]))
            )
        return entries

    # ------------------------------------------------------------ deadline policies

    def read_policy(self, region_code: str) -> PolicyRecord | None:
        """The region's stored deadline policy (``None``: the defaults)."""
        item = self.client.get_item(
            TableName=self.table, Key=serialize({"PK": f"POLICY#{region_code}", "SK": "POLICY"})
        ).get("Item")
        if item is None:
            return None
        data = deserialize(item)
        return cast(PolicyRecord, {key: value for key, value in data.items() if key not in ("PK", "SK", "entity")})

    def put_policy(self, policy: PolicyRecord) -> None:
        """Store the region's deadline policy (the whole of it)."""
        item = {"PK": f"POLICY#{policy['region_code']}", "SK": "POLICY", "entity": "policy", **policy}
        self.client.put_item(TableName=self.table, Item=serialize(item))
        self._policies.forget(policy["region_code"])

    # ------------------------------------------------------------ appeals: reads

    def get_appeal(self, appeal_id: str) -> AppealRecord | None:
        """The stored appeal (``None`` if absent)."""
        item = self.client.get_item(TableName=self.table, Key=_appeal_key(appeal_id)).get("Item")
        return _appeal_record(item) if item and item.get("entity") == {"S": "appeal"} else None

    def earliest_unanswered(self, *, thread: str, root: int | None) -> ThreadEntry | None:
        """The earliest unanswered appeal of a thread (of one comment thread inside it when ``root`` is given).

        Non-appeals (``no_action``) are skipped: a reply after thanks or spam answers the appeal that follows.
        """
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "FilterExpression": "attribute_not_exists(answered_at) AND attribute_not_exists(no_action)",
            "ExpressionAttributeValues": {":pk": {"S": f"THREAD#{thread}"}},
        }
        if root is not None:
            query["FilterExpression"] += " AND root = :root"
            query["ExpressionAttributeValues"][":root"] = serialize_value(root)
        for result in self.client.get_paginator("query").paginate(**query):
            for item in result.get("Items", []):
                found = deserialize(item)
                date = int(found["SK"].partition("#")[0])
                return ThreadEntry(thread=thread, appeal_id=found["appeal_id"], date=date)
        return None

    def list_appeals(self, *, query: AppealQuery, limit: int, cursor: str | None) -> AppealRecords:
        """Appeals of the query's institution (else of its region), narrowed by the other filters.

        Newest first, through GSI queries only; the caller has already restricted the query to its scope. A region's
        list by rubric, urgency or kind reads that label's index (rubric first, then urgent, then kind); the
        remaining filters narrow the partition read. A cursor of another query (another index or partition, other
        attributes) is a 400 before DynamoDB sees it.
        """
        clauses: list[str] = []
        values: dict[str, Any] = {}
        names: dict[str, str] = {}
        region = query["region_code"]
        facets: dict[str, str | None] = {
            "kind": query["kind"],
            "rubric": query["rubric"],
            "priority": query["priority"],
        }
        now = int(time.time())
        forward = False
        high_bound: str | None = None
        by_deadline = query["sort"] == "due_at" or query["due_before"] is not None or bool(query["overdue"])
        if query["national"]:
            if query["overdue"]:
                index, partition, forward = "GSI8", "OVERDUE", True
            else:
                index, partition = "GSI9", f"STATUS#{query['status']}"
        elif by_deadline:
            index, partition, forward = "GSI7", f"OPEN#{region}", True
            bounds = [_utc(datetime.fromtimestamp(now, tz=UTC)) if query["overdue"] else "9"]
            if query["due_before"] is not None:
                bounds.append(_utc(query["due_before"]))
            high_bound = min(bounds)
            if query["institution_id"] is not None:
                clauses.append("GSI2PK = :inst")
                values[":inst"] = {"S": f"INST#{query['institution_id']}"}
        elif query["institution_id"] is not None:
            index, partition = "GSI2", f"INST#{query['institution_id']}"
            clauses.append("region_code = :region")
            values[":region"] = {"S": region}
        elif query["rubric"] is not None:
            index, partition = "GSI5", f"RUBRIC#{region}#{query['rubric']}"
            facets["rubric"] = None
        elif query["priority"] == "urgent":
            index, partition = "GSI6", f"URGENT#{region}"
            facets["priority"] = None
        elif query["kind"] is not None:
            index, partition = "GSI4", f"KIND#{region}#{query['kind']}"
            facets["kind"] = None
        else:
            index, partition = "GSI1", f"REGION#{region}"
        if high_bound is not None or index == "GSI8":
            low, high = "0", high_bound or "9"
            for name, bound, operator in (("from", query["received_from"], ">="), ("to", query["received_to"], "<=")):
                if bound is not None:
                    clauses.append(f"vk_date {operator} :{name}")
                    values[f":{name}"] = {"N": str(int(bound.timestamp()))}
        else:
            low = _utc(query["received_from"]) if query["received_from"] else "0"
            high = _utc(query["received_to"]) + "~" if query["received_to"] else "9"
        values.update({":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}})
        if query["assigned_institution"] is not None:
            clauses.append("assigned_institution_id = :assigned")
            values[":assigned"] = {"S": query["assigned_institution"]}
        if query["page_id"] is not None:
            clauses.append("page_id = :page_id")
            values[":page_id"] = {"S": query["page_id"]}
        for field, value in {"status": query["status"], **facets}.items():
            if value is None:
                continue
            names[f"#{field}"] = field
            values[f":{field}"] = {"S": value}
            if field == "priority" and value == "normal":  # older appeals have no priority
                clauses.append("(attribute_not_exists(#priority) OR #priority = :priority)")
            else:
                clauses.append(f"#{field} = :{field}")
        if query["overdue"] is False:
            clauses.append("NOT (attribute_exists(deadline_epoch) AND deadline_epoch < :now)")
            values[":now"] = {"N": str(now)}
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{index}PK = :pk AND {index}SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": forward,
        }
        if clauses:
            request["FilterExpression"] = " AND ".join(clauses)
        if names:
            request["ExpressionAttributeNames"] = names
        start = decode_cursor(cursor, shape={"PK": None, "SK": None, f"{index}PK": partition, f"{index}SK": None})
        items: list[AppealRecord] = []
        for _ in range(MAX_LIST_QUERIES):
            if start:
                request["ExclusiveStartKey"] = start
            result = self.client.query(**request, Limit=limit - len(items))
            items += [_appeal_record(item) for item in result.get("Items", [])]
            start = result.get("LastEvaluatedKey")
            if not start or len(items) >= limit:
                break
        return AppealRecords(items=items, next_cursor=encode_cursor(start))

    def corrected_appeals(self, *, region_code: str, since: datetime | None) -> Iterator[AppealRecord]:
        """The region's appeals an operator corrected (last correction at or after ``since``), oldest first."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :pk AND GSI3SK >= :since",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"CORRECTED#{region_code}"},
                ":since": {"S": _utc(since) if since is not None else "0"},
            },
        }
        for result in self.client.get_paginator("query").paginate(**request):
            for item in result.get("Items", []):
                yield _appeal_record(item)

    def triage_counters(
        self, *, region_code: str, first_day: date, last_day: date
    ) -> dict[str, dict[str, dict[str, int]]]:
        """The region's classifier counters summed over the days: label -> class -> measure -> count."""
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"TRIAGE#{region_code}"},
                ":first": {"S": f"DAY#{first_day.isoformat()}"},
                ":last": {"S": f"DAY#{last_day.isoformat()}"},
            },
        }
        totals: dict[str, dict[str, dict[str, int]]] = {}
        for result in self.client.get_paginator("query").paginate(**request):
            for item in result.get("Items", []):
                for name, value in deserialize(item).items():
                    measure, _, rest = name.partition(":")
                    if measure in STATS_MEASURES:
                        label, _, value_class = rest.partition(":")
                        counts = totals.setdefault(label, {}).setdefault(value_class, {})
                        counts[measure] = counts.get(measure, 0) + int(value)
        return totals

    # ------------------------------------------------------------ institution projection

    def project_institution(self, institution: InstitutionRecord) -> bool:
        """Store the institution's region and zone unless this or a newer revision is stored; True if applied."""
        self._institutions.forget(institution["institution_id"])
        item = {
            **_institution_key(institution["institution_id"]),
            **serialize({**institution, "entity": "institution"}),
        }
        try:
            self.client.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(PK) OR revision < :revision",
                ExpressionAttributeValues={":revision": serialize_value(institution["revision"])},
            )
        except Exception as error:  # botocore's ClientError; a stale revision is not an error
            if is_conditional_failure(error):
                return False
            raise
        return True

    def read_institution(self, institution_id: str) -> InstitutionRecord | None:
        """The projected institution (``None`` if the registry never announced it)."""
        item = self.client.get_item(TableName=self.table, Key=_institution_key(institution_id)).get("Item")
        if item is None:
            return None
        data = deserialize(item)
        institution: InstitutionRecord = {
            "institution_id": institution_id,
            "region_code": data["region_code"],
            "revision": int(data["revision"]),
        }
        if data.get("time_zone"):
            institution["time_zone"] = data["time_zone"]
        return institution

    # ------------------------------------------------------------ page projection

    def read_page_by_group(self, group_id: int) -> PageRef | None:
        """The projected page of a VK community (``None`` if unknown)."""
        item = self.client.get_item(TableName=self.table, Key=_group_key(group_id)).get("Item")
        return _page_ref(item) if item else None

    def read_page(self, page_id: str) -> PageRef | None:
        """The projected page by its registry id (``None`` if unknown)."""
        item = self.client.get_item(TableName=self.table, Key=_page_key(page_id)).get("Item")
        return _page_ref(item) if item else None

    def project_page(self, page: PageRef) -> bool:
        """Store the page's full state unless a newer revision is stored; True if applied.

        The by-page item carries the revision check; the by-group item follows it in the same transaction, and a
        group id the page no longer has is released unless another page took it meanwhile.
        """
        previous = self.read_page(page.page_id)
        state = serialize({**asdict(page), "entity": "page"})
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": {**_page_key(page.page_id), **state},
                    "ConditionExpression": _NEWER_REVISION,
                    "ExpressionAttributeValues": {":revision": serialize_value(page.revision)},
                }
            },
            {"Put": {"TableName": self.table, "Item": {**_group_key(page.group_id), **state}}},
        ]
        if previous is not None and previous.group_id != page.group_id:
            items.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": _group_key(previous.group_id),
                        "ConditionExpression": _OWNED_BY_PAGE,
                        "ExpressionAttributeValues": {":page_id": {"S": page.page_id}},
                    }
                }
            )
        return self._write_projection(items)

    def archive_page(
        self, *, page_id: str, institution_id: str, region_code: str, group_id: int | None, revision: int
    ) -> bool:
        """Mark the page and its group (``None``: the group it has) archived unless a newer revision is stored."""
        if group_id is None:
            previous = self.read_page(page_id)
            if previous is None:
                return False
            group_id = previous.group_id
        archive = {
            "UpdateExpression": "SET #status = :archived, revision = :revision, page_id = :page_id, "
            "institution_id = :institution_id, region_code = :region_code, group_id = :group_id, entity = :entity",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":archived": {"S": "archived"},
                ":revision": serialize_value(revision),
                ":page_id": {"S": page_id},
                ":institution_id": {"S": institution_id},
                ":region_code": {"S": region_code},
                ":group_id": serialize_value(group_id),
                ":entity": {"S": "page"},
            },
        }
        return self._write_projection(
            [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _page_key(page_id),
                        "ConditionExpression": _NEWER_REVISION,
                        **archive,
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _group_key(group_id),
                        "ConditionExpression": _OWNED_BY_PAGE,
                        **archive,
                    }
                },
            ]
        )

    def _write_projection(self, items: list[dict[str, Any]]) -> bool:
        """Write a projection change (item 0: the by-page item); False when it is stale.

        A by-group item whose condition failed belongs to another page now: it is left alone and the rest retried.
        """
        try:
            transact_write(self.client, items)
        except ConditionFailed as failure:
            if failure.failed(0) or not failure.failed_positions:
                return False
            return self._write_projection([item for index, item in enumerate(items) if not failure.failed(index)])
        return True
