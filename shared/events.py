"""Versioned event contracts between services - the only thing services share about each other.

Every message on an internal queue is one ``Event``: an envelope (id, type, version, time, producer) around a
typed payload. Consumers dispatch on ``type``; a consumer that meets a newer ``version`` than it knows fails the
record loudly (it lands in the DLQ) instead of guessing. Payloads carry an aggregate ``revision`` so projections
can ignore stale, out-of-order deliveries.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
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


EventBody = Annotated[
    PageUpsertedEvent | PageArchivedEvent | InstitutionUpsertedEvent | ActivityRecordedEvent,
    Field(discriminator="type"),
]


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


def make_event(producer: str, payload: PageUpserted | PageArchived | InstitutionUpserted | ActivityRecorded) -> Event:
    """Wrap a payload in its versioned envelope."""
    body: PageUpsertedEvent | PageArchivedEvent | InstitutionUpsertedEvent | ActivityRecordedEvent
    if isinstance(payload, PageUpserted):
        body = PageUpsertedEvent(payload=payload)
    elif isinstance(payload, PageArchived):
        body = PageArchivedEvent(payload=payload)
    elif isinstance(payload, InstitutionUpserted):
        body = InstitutionUpsertedEvent(payload=payload)
    else:
        body = ActivityRecordedEvent(payload=payload)
    return Event(producer=producer, body=body)
