"""Versioned event contracts between services - the only thing services share about each other.

Every message on an internal queue is one ``Event``: an envelope (id, type, version, time, producer) around a
typed payload. Consumers dispatch on ``type``; a consumer that meets a newer ``version`` than it knows fails the
record loudly (it lands in the DLQ) instead of guessing. Payloads carry an aggregate ``revision`` so projections
can ignore stale, out-of-order deliveries.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Platform = Literal["vk", "ok", "max", "telegram"]
PageCategory = Literal["flagship", "active", "card"]
RegionCode = Annotated[str, Field(pattern=r"^\d{2}$")]


class ContractModel(BaseModel):
    """Base of every contract: immutable, unknown fields ignored (forward compatible), errors never echo values."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)


# ---------------------------------------------------------------- registry -> appeals, metrics


class PageUpserted(ContractModel):
    """A page was created or changed in the registry (full state, not a diff)."""

    page_id: str
    institution_id: str
    region_code: RegionCode
    platform: Platform
    group_id: int | None = None
    screen_name: str | None = None
    url: str
    category: PageCategory
    status: Literal["active", "archived"] = "active"
    subscribers: int | None = None
    secret_salt: str | None = Field(default=None, description="Salt of the VK callback secret hash")
    secret_hash: str | None = Field(default=None, description="hex HMAC-SHA256 of the VK callback secret")
    confirmation_code: str | None = None
    has_access_token: bool = False
    compliance_pct: int | None = Field(default=None, ge=0, le=100, description="Checklist compliance, 0-100")
    revision: int = Field(ge=1, description="Monotonic per page; projections keep the highest")


class PageArchived(ContractModel):
    """A page was archived: it no longer receives events or counts in ratings."""

    page_id: str
    institution_id: str
    region_code: RegionCode
    platform: Platform
    group_id: int | None = None
    revision: int = Field(ge=1)


class InstitutionUpserted(ContractModel):
    """An institution was created, changed or archived."""

    institution_id: str
    region_code: RegionCode
    name: str
    short_name: str | None = None
    kind: str
    level: str
    spheres: tuple[str, ...]
    status: Literal["active", "archived"] = "active"
    revision: int = Field(ge=1)
    oktmo: str | None = None
    time_zone: str | None = Field(
        default=None, description="IANA zone the institution keeps instead of its region's (None: the region's zone)"
    )


# ---------------------------------------------------------------- appeals -> metrics

ActivityKind = Literal["post", "repost", "join", "leave", "like_add", "like_remove", "comment", "message"]


class ActivityRecorded(ContractModel):
    """Something happened on a page that the metrics service counts. No personal data travels here."""

    activity_id: str = Field(description="Stable id of the source event: the dedupe key of the counter")
    page_id: str
    group_id: int
    institution_id: str
    region_code: RegionCode
    kind: ActivityKind
    occurred_at: datetime


AppealKindLabel = Literal["appeal", "gratitude", "spam", "abuse", "other"]
AppealPriority = Literal["normal", "urgent"]


class AppealFacts(ContractModel):
    """What every appeal event says of its appeal: where it belongs, how it is labelled. No text, no citizen ids."""

    change_id: str = Field(description="Stable id of this change of this appeal: the dedupe key of the counters")
    appeal_id: str
    page_id: str
    institution_id: str
    region_code: RegionCode
    kind: AppealKindLabel
    rubric: str | None = None
    priority: AppealPriority = "normal"
    received_at: datetime = Field(description="VK's time of the citizen's message")


class AppealCreated(AppealFacts):
    """A citizen's message became an appeal (of any kind)."""


class AppealAnswered(AppealFacts):
    """The community answered the appeal for the first time (a reply in VK or from the console)."""

    answered_at: datetime
    response_working_minutes: int | None = Field(default=None, ge=0)
    answered_within_sla: bool | None = None
    answer_quality_score: int | None = Field(default=None, ge=0, le=100)
    answer_quality_flags: tuple[str, ...] = ()


class AppealOverdue(AppealFacts):
    """The appeal's first-response deadline passed without an answer."""

    due_at: datetime


class AppealClosed(AppealFacts):
    """The appeal was closed."""

    closed_at: datetime


# ---------------------------------------------------------------- metrics -> registry


class PageMetricsUpdated(ContractModel):
    """VK's subscriber count of a page on a local day, as the metrics service's sync read it."""

    page_id: str
    region_code: RegionCode
    day: date
    subscribers: int = Field(ge=0)


class QualityMarkAwarded(ContractModel):
    """A page earned the region's quality mark for a year (its page score of that year ranked it among the best)."""

    page_id: str
    region_code: RegionCode
    year: int = Field(ge=2000, le=2100)
    score: float = Field(ge=0, le=100)


# ---------------------------------------------------------------- envelope


class PageUpsertedEvent(ContractModel):
    type: Literal["page.upserted"] = "page.upserted"
    version: Literal[1] = 1
    payload: PageUpserted


class PageArchivedEvent(ContractModel):
    type: Literal["page.archived"] = "page.archived"
    version: Literal[1] = 1
    payload: PageArchived


class InstitutionUpsertedEvent(ContractModel):
    type: Literal["institution.upserted"] = "institution.upserted"
    version: Literal[1] = 1
    payload: InstitutionUpserted


class ActivityRecordedEvent(ContractModel):
    type: Literal["activity.recorded"] = "activity.recorded"
    version: Literal[1] = 1
    payload: ActivityRecorded


class AppealCreatedEvent(ContractModel):
    type: Literal["appeal.created"] = "appeal.created"
    version: Literal[1] = 1
    payload: AppealCreated


class AppealAnsweredEvent(ContractModel):
    type: Literal["appeal.answered"] = "appeal.answered"
    version: Literal[1] = 1
    payload: AppealAnswered


class AppealOverdueEvent(ContractModel):
    type: Literal["appeal.overdue"] = "appeal.overdue"
    version: Literal[1] = 1
    payload: AppealOverdue


class AppealClosedEvent(ContractModel):
    type: Literal["appeal.closed"] = "appeal.closed"
    version: Literal[1] = 1
    payload: AppealClosed


class PageMetricsUpdatedEvent(ContractModel):
    type: Literal["page.metrics"] = "page.metrics"
    version: Literal[1] = 1
    payload: PageMetricsUpdated


class QualityMarkAwardedEvent(ContractModel):
    type: Literal["quality_mark.awarded"] = "quality_mark.awarded"
    version: Literal[1] = 1
    payload: QualityMarkAwarded


Body = (
    PageUpsertedEvent
    | PageArchivedEvent
    | InstitutionUpsertedEvent
    | ActivityRecordedEvent
    | AppealCreatedEvent
    | AppealAnsweredEvent
    | AppealOverdueEvent
    | AppealClosedEvent
    | PageMetricsUpdatedEvent
    | QualityMarkAwardedEvent
)
Payload = (
    PageUpserted
    | PageArchived
    | InstitutionUpserted
    | ActivityRecorded
    | AppealCreated
    | AppealAnswered
    | AppealOverdue
    | AppealClosed
    | PageMetricsUpdated
    | QualityMarkAwarded
)
EventBody = Annotated[Body, Field(discriminator="type")]
_BODY_OF: dict[type[ContractModel], type[Body]] = {
    PageUpserted: PageUpsertedEvent,
    PageArchived: PageArchivedEvent,
    InstitutionUpserted: InstitutionUpsertedEvent,
    ActivityRecorded: ActivityRecordedEvent,
    AppealCreated: AppealCreatedEvent,
    AppealAnswered: AppealAnsweredEvent,
    AppealOverdue: AppealOverdueEvent,
    AppealClosed: AppealClosedEvent,
    PageMetricsUpdated: PageMetricsUpdatedEvent,
    QualityMarkAwarded: QualityMarkAwardedEvent,
}


class Event(ContractModel):
    """What travels on a queue: identity and provenance around one typed body."""

    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    body: EventBody

    @property
    def type(self) -> str:
        return self.body.type


_EVENT = TypeAdapter(Event)


def parse_event(raw: str | bytes) -> Event:
    """Parse a queue message body into an ``Event`` (raises ``pydantic.ValidationError``)."""
    return _EVENT.validate_json(raw)


def make_event(producer: str, payload: Payload) -> Event:
    """Wrap a payload in its versioned envelope."""
    body = _BODY_OF[type(payload)].model_validate({"payload": payload})
    return Event(producer=producer, body=body)
