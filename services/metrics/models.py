"""Metrics read and request models (no FastAPI import: workers share these)."""

from __future__ import annotations

from datetime import date
from typing import Any, Self

from pydantic import BaseModel, Field, model_validator

from shared.events import ActivityKind

from .periods import RatingPeriod


class DailyActivity(BaseModel):
    """Counters of one page or region on one local day."""

    day: date
    counts: dict[ActivityKind, int] = Field(default_factory=dict)


class ActivityReport(BaseModel):
    """Activity of a page or region over a period of local days."""

    scope: str = Field(description="page:<id> or region:<code>")
    days: list[DailyActivity]
    totals: dict[ActivityKind, int]


class ScorePart(BaseModel):
    """One component of a score: ratio 0..1 x weight (weights scaled to 100)."""

    ratio: float
    points: float
    weight: float
    basis: dict[str, Any]


class ScoreBreakdown(BaseModel):
    """A score 0-100 and how it was made."""

    total: float
    parts: dict[str, ScorePart]


class Kpis(BaseModel):
    """Activity and answering figures of a scope over a period."""

    posts: int = 0
    reposts: int = 0
    comments: int = 0
    messages: int = 0
    likes: int = 0
    joins: int = 0
    leaves: int = 0
    appeals_new: int = 0
    appeals_answered: int = 0
    appeals_overdue: int = 0
    appeals_closed: int = 0
    share_answered_in_sla: float | None = None
    median_response_minutes: int | None = Field(default=None, description="working minutes, to the bucket bound")
    answer_quality: float | None = Field(default=None, description="mean answer quality score 0-100")
    top_rubrics: list[tuple[str, int]] = Field(default_factory=list)


class Breakdown(BaseModel):
    """A slice of a region (an institution, an institution kind, a sphere, a municipality) over the period."""

    key: str
    name: str | None = None
    institutions: int | None = Field(default=None, description="institutions with activity (municipalities only)")
    kpis: Kpis


class Dashboard(BaseModel):
    """A region's figures over a week, month or quarter."""

    region_code: str
    period: RatingPeriod
    label: str
    first_day: date
    last_day: date
    pages: int
    institutions: int
    coverage: float | None = Field(description="share of institutions with an active page")
    subscribers: int
    subscriber_growth: int
    kpis: Kpis
    score: ScoreBreakdown | None = None
    by_kind: list[Breakdown]
    by_institution: list[Breakdown]
    by_sphere: list[Breakdown]
    by_municipality: list[Breakdown] = Field(
        description="per first-level municipal formation: the ОКТМО's first 5 digits + 000, or unknown"
    )


class DailyCounters(BaseModel):
    """A page's counters on one local day."""

    day: date
    counts: dict[str, int]
    subscribers: int | None = Field(default=None, description="synced that day")


class PageMetrics(BaseModel):
    """A page's daily series and its score over the days."""

    page_id: str
    first_day: date
    last_day: date
    subscribers: int | None = Field(description="last synced count adjusted by joins and leaves since")
    days: list[DailyCounters]
    kpis: Kpis
    score: ScoreBreakdown


class RatingEntry(BaseModel):
    """One ranked page or region."""

    rank: int
    id: str
    score: float
    breakdown: ScoreBreakdown | None = None
    kpis: Kpis


class Rating(BaseModel):
    """A ranked list of pages of a region or of all regions."""

    level: str
    region_code: str | None = None
    period: RatingPeriod
    label: str
    items: list[RatingEntry]


class OverdueAppeal(BaseModel):
    """An appeal past its first-response deadline, still unanswered."""

    appeal_id: str
    page_id: str
    institution_id: str
    rubric: str | None = None
    due_at: str


class WeeklyDay(BaseModel):
    """Appeals of one day of the week."""

    day: date
    appeals_new: int
    appeals_answered: int
    appeals_closed: int


class WeeklyReport(BaseModel):
    """The ЦУР weekly report of a region."""

    region_code: str
    week: str
    first_day: date
    last_day: date
    appeals_new: int
    appeals_resolved: int = Field(description="closed during the week (the backlog carries over)")
    appeals_answered: int
    top_rubrics: list[tuple[str, int]]
    days: list[WeeklyDay]
    overdue: list[OverdueAppeal]
    by_institution: list[Breakdown]


class NationalRow(BaseModel):
    """One region in the national view."""

    region_code: str
    score: float | None
    kpis: Kpis
    pages: int
    subscribers: int


class NationalView(BaseModel):
    """Every region's figures over a period."""

    period: RatingPeriod
    label: str
    regions: list[NationalRow]


class QualityMarkAward(BaseModel):
    """Select the best pages of a region's year: the top percent, or every page at or above a score."""

    region_code: str = Field(pattern=r"^\d{2}$")
    year: int = Field(ge=2000, le=2100)
    top_percent: float | None = Field(default=None, gt=0, le=100)
    min_score: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _one_rule(self) -> Self:
        if (self.top_percent is None) == (self.min_score is None):
            raise ValueError("give exactly one of top_percent and min_score")
        return self


class QualityMark(BaseModel):
    """A page that holds the mark, with its score of the year."""

    page_id: str
    score: float


class QualityMarks(BaseModel):
    """The quality marks of a region's year."""

    region_code: str
    year: int
    items: list[QualityMark]
