"""Stored records of the registry, the changes that move them, and the events they publish.

Records are what the repository reads and writes, without key or index attributes. Optional fields are absent
rather than ``None`` (as DynamoDB stores them), so a stored record and a freshly built one compare equal.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypedDict, TypeVar, cast

from shared.events import (
    Event,
    InstitutionUpserted,
    PageArchived,
    PageCategory,
    PageUpserted,
    Platform,
    make_event,
)

PRODUCER = "registry"
MAX_NAME_TERMS = 16  # words of a name that search finds it by
Status = Literal["active", "archived"]
INSTITUTION_FIELDS = (  # what the API and the spreadsheet describe an institution with
    "name",
    "short_name",
    "inn",
    "ogrn",
    "kpp",
    "oktmo",
    "level",
    "kind",
    "spheres",
    "parent_id",
    "municipality",
    "time_zone",
    "website",
    "no_page_reason",
)


class InstitutionRecord(TypedDict):
    """An institution; ``page_stats`` aggregates its active pages (see ``counters``)."""

    id: str
    region_code: str
    name: str
    inn: str
    ogrn: str
    level: str
    kind: str
    spheres: list[str]
    status: Status
    page_stats: dict[str, int]
    revision: int
    created_at: str
    updated_at: str
    short_name: NotRequired[str]
    kpp: NotRequired[str]
    oktmo: NotRequired[str]
    parent_id: NotRequired[str]
    municipality: NotRequired[str]
    time_zone: NotRequired[str]
    website: NotRequired[str]
    no_page_reason: NotRequired[str]


class ChecklistEntry(TypedDict):
    """One checklist item of a page: its value and when it was checked."""

    value: bool | int
    checked_at: str


class PageRecord(TypedDict):
    """An official page of an institution, with its compliance checklist and VK callback settings (hashed).

    ``archived_with_institution`` marks a page that archiving its institution archived (restoring it restores them).
    """

    id: str
    institution_id: str
    region_code: str
    platform: Platform
    url: str
    url_key: str
    category: PageCategory
    status: Status
    checklist: dict[str, ChecklistEntry]
    compliance_pct: int
    gov_mark: bool
    quality_marks: list[int]
    has_access_token: bool
    revision: int
    created_at: str
    updated_at: str
    archived_with_institution: NotRequired[bool]
    group_id: NotRequired[int]
    screen_name: NotRequired[str]
    subscribers: NotRequired[int]
    secret_salt: NotRequired[str]
    secret_hash: NotRequired[str]
    confirmation_code: NotRequired[str]
    token_permissions: NotRequired[list[str]]


class RegionSettingsRecord(TypedDict):
    """A region's settings: posts a week per page category."""

    region_code: str
    posting_norms: dict[PageCategory, int]


CoverageCounters = TypedDict(
    "CoverageCounters",
    {
        "institutions": int,
        "with_pages": int,
        "exempt": int,
        "pages": int,
        "gov_mark": int,
        "pages_vk": int,
        "pages_ok": int,
        "pages_max": int,
        "pages_telegram": int,
        "c_100": int,
        "c_75-99": int,
        "c_50-74": int,
        "c_25-49": int,
        "c_0-24": int,
    },
    total=False,
)
"""Coverage counters of a region, or of one sphere in a region (``counters.COUNTER_ATTRIBUTES``)."""


@dataclass
class Unit:
    """One institution's change (before/after) with some of its pages' changes and their events, committed at once."""

    institution_before: InstitutionRecord | None
    institution_after: InstitutionRecord
    pages: list[tuple[PageRecord | None, PageRecord]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    """A new random id."""
    return uuid.uuid4().hex


def name_key(name: str) -> str:
    """Lower-case, ``ё`` as ``е``, single spaces: what name-prefix filters compare."""
    return " ".join(name.lower().replace("ё", "е").split())[:200]


_WORD = re.compile(r"[^\W_]+")


def name_words(text: str) -> list[str]:
    """Distinct words of a text in order, as ``name_key`` writes them; one-letter words are left out, numbers kept."""
    words = (word for word in _WORD.findall(name_key(text)) if len(word) > 1 or word.isdigit())
    return list(dict.fromkeys(words))


def name_terms(name: str) -> list[str]:
    """The words an institution is found by: the first ``MAX_NAME_TERMS`` words of its name."""
    return name_words(name)[:MAX_NAME_TERMS]


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def institution_record(values: Mapping[str, Any]) -> InstitutionRecord:
    """An institution record from field values (``None`` values dropped)."""
    return cast(InstitutionRecord, _without_none(values))


def page_record(values: Mapping[str, Any]) -> PageRecord:
    """A page record from field values (``None`` values dropped)."""
    return cast(PageRecord, _without_none(values))


RecordT = TypeVar("RecordT", InstitutionRecord, PageRecord)


def bump(record: RecordT, *, at: str) -> RecordT:
    """The record with the next revision and ``updated_at``."""
    result = record.copy()
    result["revision"] = int(record["revision"]) + 1
    result["updated_at"] = at
    return result


def institution_event(record: InstitutionRecord) -> Event:
    """``institution.upserted`` for the record's current state."""
    return make_event(
        PRODUCER,
        InstitutionUpserted(
            institution_id=record["id"],
            region_code=record["region_code"],
            name=record["name"],
            short_name=record.get("short_name"),
            kind=record["kind"],
            level=record["level"],
            spheres=tuple(record["spheres"]),
            status=record["status"],
            revision=record["revision"],
            oktmo=record.get("oktmo"),
            time_zone=record.get("time_zone"),
        ),
    )


def page_event(record: PageRecord) -> Event:
    """``page.upserted`` (or ``page.archived``) for the record's current state."""
    if record["status"] == "archived":
        return make_event(
            PRODUCER,
            PageArchived(
                page_id=record["id"],
                institution_id=record["institution_id"],
                region_code=record["region_code"],
                platform=record["platform"],
                group_id=record.get("group_id"),
                revision=record["revision"],
            ),
        )
    return make_event(
        PRODUCER,
        PageUpserted(
            page_id=record["id"],
            institution_id=record["institution_id"],
            region_code=record["region_code"],
            platform=record["platform"],
            group_id=record.get("group_id"),
            screen_name=record.get("screen_name"),
            url=record["url"],
            category=record["category"],
            status=record["status"],
            subscribers=record.get("subscribers"),
            secret_salt=record.get("secret_salt"),
            secret_hash=record.get("secret_hash"),
            confirmation_code=record.get("confirmation_code"),
            has_access_token=bool(record.get("has_access_token")),
            compliance_pct=record.get("compliance_pct"),
            revision=record["revision"],
        ),
    )
