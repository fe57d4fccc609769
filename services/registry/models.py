"""Request and response models of the registry API (pydantic), with constrained types for registration numbers."""

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


def _region(value: Any) -> str:
    try:
        return normalize_region_code(value)
    except UnknownRegionError as error:
        raise ValueError(str(error)) from None


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Inn = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_inn)]
Ogrn = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_ogrn)]
Kpp = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_kpp)]
Oktmo = Annotated[str, BeforeValidator(_as_text), AfterValidator(validation.validate_oktmo)]
RegionCode = Annotated[str, BeforeValidator(_region)]
Url = Annotated[str, StringConstraints(max_length=500), AfterValidator(validation.validate_url)]
GroupId = Annotated[int, Field(gt=0, lt=10**12, description="VK community id (positive)")]
Year = Annotated[int, Field(ge=2000, le=2100)]


def _spheres(value: list[str]) -> list[str]:
    if len(set(value)) != len(value):
        raise ValueError("spheres must not repeat")
    return value


Spheres = Annotated[list[Sphere], Field(min_length=1, max_length=3), AfterValidator(_spheres)]


class RegistryModel(BaseModel):
    """Base of request models: unknown fields are an error, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
    parent_id: str | None = Field(default=None, description="Founder (учредитель) institution id")
    municipality: Text | None = None
    website: Url | None = None
    no_page_reason: Text | None = Field(default=None, description="Why no official page is kept (legal ground)")


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
    website: Url | None = None
    no_page_reason: Text | None = None
    status: Status | None = Field(default=None, description="`archived` also archives the institution's pages")

    @field_validator("name", "inn", "ogrn", "level", "kind", "spheres", "status")
    @classmethod
    def _required_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null")
        return value


class InstitutionRead(InstitutionBase):
    id: str
    region_code: str
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

    confirmation_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,64}$")]
    secret: Annotated[SecretStr, Field(min_length=16, max_length=50)]
    access_token: Annotated[SecretStr, Field(min_length=1, max_length=500)] | None = None


class PageBase(RegistryModel):
    platform: Platform = "vk"
    group_id: GroupId | None = None
    screen_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    url: Url
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
    screen_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    url: Url | None = None
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


class PageRead(PageBase):
    id: str
    institution_id: str
    region_code: str
    status: Status
    checklist: Checklist
    compliance_pct: int
    callback_configured: bool = Field(description="A callback secret and confirmation code are set")
    has_access_token: bool
    created_at: datetime
    updated_at: datetime
    revision: int


# ---------------------------------------------------------------- lists, import, coverage

ItemT = TypeVar("ItemT")


class Listing(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page")


class ImportProblem(BaseModel):
    row: int = Field(description="Row number as the spreadsheet shows it (1-based)")
    column: str | None = Field(default=None, description="Column header as in the file")
    message: str


class ImportReport(BaseModel):
    dry_run: bool
    rows: int = Field(description="Non-blank data rows read")
    created: int
    updated: int
    unchanged: int
    skipped: int = Field(description="Rows not applied because of errors")
    errors: list[ImportProblem]


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
