"""Request and response models of the registry API (pydantic).

Request models carry the write rules (registration number checksums, lengths, VK id bounds); read models only the
types, so a stored value that predates a rule, or was written around the API, never breaks a read or a list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
)

from services.registry import validation
from services.registry.compliance import BUCKETS
from services.registry.records import Status
from shared.events import PageCategory, Platform
from shared.regions import UnknownRegionError, normalize_region_code
from shared.vk_ids import VkId

Level = Literal["federal", "regional", "municipal"]
Kind = Literal[
    "administration",
    "ministry",
    "school",
    "kindergarten",
    "hospital",
    "library",
    "culture",
    "sport",
    "social",
    "other",
]
Sphere = Literal["education", "healthcare", "culture", "sport", "social", "youth", "administration", "other"]
DEFAULT_POSTING_NORMS: dict[PageCategory, int] = {"flagship": 10, "active": 3, "card": 1}

__all__ = ["PageCategory", "Platform", "Status"]

SPHERES: tuple[str, ...] = get_args(Sphere)


def _as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


def _region(value: Any) -> str:
    try:
        return normalize_region_code(value)
    except UnknownRegionError as error:
        raise ValueError(str(error)) from None


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(validation.plain_text)
]
ScreenName = Annotated[str, StringConstraints(max_length=100), AfterValidator(validation.plain_text)]
Inn = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_inn)]
Ogrn = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_ogrn)]
Kpp = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_kpp)]
Oktmo = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_oktmo)]
TimeZone = Annotated[str, AfterValidator(validation.validate_time_zone)]
RegionCode = Annotated[str, BeforeValidator(_region)]
Url = Annotated[str, AfterValidator(validation.validate_url)]
PageUrl = Annotated[str, AfterValidator(validation.validate_page_url)]
GroupId = Annotated[VkId, BeforeValidator(_not_a_bool), Field(description="VK community id (positive)")]
ConfirmationCode = Annotated[str, BeforeValidator(validation.validate_confirmation_code)]
Year = Annotated[int, Field(ge=2000, le=2100)]


def _spheres(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("spheres must not repeat")
    return value


Spheres = Annotated[list[Sphere], Field(min_length=1, max_length=3), AfterValidator(_spheres)]


class RegistryModel(BaseModel):
    """Base of request models: unknown fields are an error, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Health(BaseModel):
    """Liveness of the registry API."""

    status: Literal["ok"]
    service: Literal["registry"]


# ---------------------------------------------------------------- regions


class RegionRead(BaseModel):
    code: str
    name: str
    timezone: str


class RegionSettings(RegistryModel):
    """Per-region posting norms (posts a week per page category)."""

    posting_norms: dict[PageCategory, Annotated[int, Field(ge=0, le=100)]] = Field(
        default_factory=lambda: dict(DEFAULT_POSTING_NORMS)
    )


# ---------------------------------------------------------------- institutions


PARENT_ID = "Founder (учредитель) institution id, of the same region"
NO_PAGE_REASON = "Why no official page is kept (legal ground)"
TIME_ZONE = "IANA time zone of Russia the institution keeps, e.g. Asia/Novosibirsk; null: its region's zone"


class InstitutionBase(RegistryModel):
    name: Text
    short_name: Text | None = None
    inn: Inn
    ogrn: Ogrn
    kpp: Kpp | None = None
    oktmo: Oktmo | None = None
    level: Level
    kind: Kind
    spheres: Spheres
    parent_id: str | None = Field(default=None, description=PARENT_ID)
    municipality: Text | None = None
    time_zone: TimeZone | None = Field(default=None, description=TIME_ZONE)
    website: Url | None = None
    no_page_reason: Text | None = Field(default=None, description=NO_PAGE_REASON)


class InstitutionCreate(InstitutionBase):
    region_code: RegionCode


class InstitutionUpdate(RegistryModel):
    """Fields to change; omitted fields stay, ``null`` clears an optional field."""

    name: Text | None = None
    short_name: Text | None = None
    inn: Inn | None = None
    ogrn: Ogrn | None = None
    kpp: Kpp | None = None
    oktmo: Oktmo | None = None
    level: Level | None = None
    kind: Kind | None = None
    spheres: Spheres | None = None
    parent_id: str | None = None
    municipality: Text | None = None
    time_zone: TimeZone | None = Field(default=None, description=TIME_ZONE)
    website: Url | None = None
    no_page_reason: Text | None = None
    status: Status | None = Field(default=None, description="`archived` also archives the institution's pages")

    @field_validator("name", "inn", "ogrn", "level", "kind", "spheres", "status")
    @classmethod
    def _required_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class InstitutionRead(BaseModel):
    """An institution as stored."""

    id: str
    region_code: str
    name: str
    short_name: str | None = None
    inn: str
    ogrn: str
    kpp: str | None = None
    oktmo: str | None = None
    level: Level
    kind: Kind
    spheres: list[Sphere]
    parent_id: str | None = Field(default=None, description=PARENT_ID)
    municipality: str | None = None
    time_zone: str | None = Field(default=None, description=TIME_ZONE)
    website: str | None = None
    no_page_reason: str | None = Field(default=None, description=NO_PAGE_REASON)
    status: Status
    page_count: int = Field(description="Active pages")
    created_at: datetime
    updated_at: datetime
    revision: int


# ---------------------------------------------------------------- pages


class ChecklistEntry(BaseModel):
    value: bool | int
    checked_at: datetime | None = None


class Checklist(BaseModel):
    """The compliance checklist as stored: each item's value and when it was last checked."""

    name_matches: ChecklistEntry | None = None
    description: ChecklistEntry | None = None
    phone: ChecklistEntry | None = None
    address: ChecklistEntry | None = None
    schedule: ChecklistEntry | None = None
    email: ChecklistEntry | None = None
    website_link: ChecklistEntry | None = None
    avatar: ChecklistEntry | None = None
    cover: ChecklistEntry | None = None
    gov_mark: ChecklistEntry | None = Field(default=None, description="«Госорганизация» mark")
    pos_widgets: ChecklistEntry | None = Field(default=None, description="Number of ПОС widgets, 0..2")
    connected_to_gospubliki: ChecklistEntry | None = None
    comments_open: ChecklistEntry | None = None


class ChecklistUpdate(RegistryModel):
    """Checked items (omitted items stay); each given item gets ``checked_at`` (now unless given)."""

    name_matches: bool | None = None
    description: bool | None = None
    phone: bool | None = None
    address: bool | None = None
    schedule: bool | None = None
    email: bool | None = None
    website_link: bool | None = None
    avatar: bool | None = None
    cover: bool | None = None
    gov_mark: bool | None = None
    pos_widgets: Annotated[int, Field(ge=0, le=2)] | None = None
    connected_to_gospubliki: bool | None = None
    comments_open: bool | None = None
    checked_at: datetime | None = None


class CallbackSettings(RegistryModel):
    """VK Callback API settings of a community: write-only, never returned."""

    confirmation_code: ConfirmationCode
    secret: Annotated[SecretStr, Field(min_length=16, max_length=50)]


def _token_characters(token: SecretStr) -> SecretStr:
    if not all("!" <= char <= "~" for char in token.get_secret_value()):
        raise ValueError("a VK token is printable ASCII without spaces")
    return token


class VkTokenUpdate(RegistryModel):
    """A VK community access token: write-only, kept in the secret store, never returned or logged."""

    access_token: Annotated[SecretStr, Field(min_length=1, max_length=500), AfterValidator(_token_characters)]


class PageBase(RegistryModel):
    platform: Platform = "vk"
    group_id: GroupId | None = None
    screen_name: ScreenName | None = None
    url: PageUrl
    category: PageCategory = "card"
    subscribers: Annotated[int, Field(ge=0)] | None = None
    quality_marks: list[Year] = Field(default_factory=list, description="Years the page got a quality mark")


class PageCreate(PageBase):
    checklist: ChecklistUpdate | None = None
    callback: CallbackSettings | None = None


class PageUpdate(RegistryModel):
    """Fields to change; omitted fields stay."""

    platform: Platform | None = None
    group_id: GroupId | None = None
    screen_name: ScreenName | None = None
    url: PageUrl | None = None
    category: PageCategory | None = None
    subscribers: Annotated[int, Field(ge=0)] | None = None
    quality_marks: list[Year] | None = None
    checklist: ChecklistUpdate | None = None
    status: Status | None = None

    @field_validator("platform", "url", "category", "status", "quality_marks")
    @classmethod
    def _required_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class PageRead(BaseModel):
    """A page as stored (callback secrets and the confirmation code are never part of it)."""

    id: str
    institution_id: str
    region_code: str
    platform: Platform
    group_id: int | None = Field(default=None, description="VK community id (positive)")
    screen_name: str | None = None
    url: str
    category: PageCategory
    subscribers: int | None = None
    quality_marks: list[int] = Field(default_factory=list, description="Years the page got a quality mark")
    status: Status
    checklist: Checklist
    compliance_pct: int
    callback_configured: bool = Field(description="A callback secret and confirmation code are set")
    has_access_token: bool
    token_permissions: list[str] = Field(
        default_factory=list, description="What VK reports the community token may do (groups.getTokenPermissions)"
    )
    created_at: datetime
    updated_at: datetime
    revision: int


# ---------------------------------------------------------------- lists, import, coverage

ItemT = TypeVar("ItemT")


class Listing(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page")


REPORT_LIMIT = 100
"""Problems and changes an import report lists (the first ones by row); the totals count them all."""


class ImportProblem(BaseModel):
    row: int = Field(description="Row number as the spreadsheet shows it (1-based)")
    column: str | None = Field(default=None, description="Column header as in the file")
    message: str


class ImportChange(BaseModel):
    row: int = Field(description="Row number as the spreadsheet shows it (1-based)")
    target: Literal["institution", "page"]
    action: Literal["created", "updated"]
    fields: list[str] = Field(
        default_factory=list, description="Each changed column of an update as `column: old → new` (— for blank)"
    )


class ImportReport(BaseModel):
    dry_run: bool
    rows: int = Field(description="Non-blank data rows read")
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Rows not applied because of errors")
    errors: list[ImportProblem] = Field(description=f"The first {REPORT_LIMIT} problems, by row")
    errors_total: int = Field(description="Problems found in the whole file")
    changes: list[ImportChange] = Field(
        description=f"The first {REPORT_LIMIT} institutions and pages the import creates or changes, by row"
    )
    changes_total: int = Field(description="Institutions and pages the import creates or changes")


class CoverageStats(BaseModel):
    institutions: int = Field(description="Active institutions")
    institutions_with_pages: int
    exempt: int = Field(description="Institutions without pages that have a legal reason (no_page_reason)")
    coverage_pct: float = Field(description="with pages / (institutions - exempt), %")
    pages: int
    pages_by_platform: dict[str, int]
    gov_mark_pages: int
    gov_mark_share: float = Field(description="Share of pages with the «Госорганизация» mark, %")
    compliance: dict[str, int] = Field(description=f"Pages per compliance bucket: {', '.join(b for b, _ in BUCKETS)}")


class RegionCoverage(BaseModel):
    region_code: str
    region_name: str
    total: CoverageStats
    spheres: dict[str, CoverageStats]


class CoverageReport(BaseModel):
    regions: list[RegionCoverage]
    total: CoverageStats | None = Field(default=None, description="National totals (all regions requested)")
    spheres: dict[str, CoverageStats] | None = None
