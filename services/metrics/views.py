"""Metrics HTTP routes (thin: parse, call one service function)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response

from shared.timeparams import QueryDate
from shared.web import CurrentPrincipal, KnownRegion

from . import bootstrap, reports, service
from .models import (
    ActivityReport,
    Dashboard,
    NationalView,
    PageMetrics,
    QualityMarkAward,
    QualityMarks,
    Rating,
    WeeklyReport,
)
from .periods import RatingPeriod
from .repository import MetricsRepository

router = APIRouter(prefix="/metrics", tags=["metrics"])

Repository = Annotated[MetricsRepository, Depends(bootstrap.repository)]
FromDay = Annotated[QueryDate | None, Query(alias="from", description="first local day")]
ToDay = Annotated[QueryDate | None, Query(alias="to", description="last local day, included (default: today)")]
PageId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="registry page id")]
Day = Annotated[QueryDate | None, Query(alias="date", description="a local day inside the period (default: today)")]
PeriodParam = Annotated[RatingPeriod, Query(description="week, month, quarter or year")]
RegionParam = Annotated[KnownRegion, Query(description="2-digit region code")]


@router.get("/pages/{page_id}/activity", response_model=ActivityReport)
def page_activity(
    page_id: PageId, principal: CurrentPrincipal, repository: Repository, first: FromDay = None, last: ToDay = None
) -> ActivityReport:
    """Daily posts, reposts, joins, leaves, likes, comments and messages of one page (default: the last 7 days)."""
    return service.page_activity(
        repository=repository, principal=principal, page_id=page_id, first_day=first, last_day=last
    )


@router.get("/regions/{region_code}/activity", response_model=ActivityReport)
def region_activity(
    region_code: KnownRegion,
    principal: CurrentPrincipal,
    repository: Repository,
    first: FromDay = None,
    last: ToDay = None,
) -> ActivityReport:
    """Daily activity summed over every page of a region (regional roles; an institution admin gets 403)."""
    return service.region_activity(
        repository=repository, principal=principal, region_code=region_code, first_day=first, last_day=last
    )


@router.get("/regions/{region_code}/dashboard", response_model=Dashboard)
def region_dashboard(
    region_code: KnownRegion,
    principal: CurrentPrincipal,
    repository: Repository,
    period: PeriodParam = "week",
    day: Day = None,
) -> Dashboard:
    """Pages, coverage, subscribers, activity and appeals KPIs of a region, by institution, kind and sphere."""
    return service.dashboard(
        repository=repository, principal=principal, region_code=region_code, period=period, day=day
    )


@router.get("/pages/{page_id}", response_model=PageMetrics)
def page_metrics(
    page_id: PageId, principal: CurrentPrincipal, repository: Repository, first: FromDay = None, last: ToDay = None
) -> PageMetrics:
    """A page's daily series and its score with the breakdown (default: the last 30 days)."""
    return service.page_metrics(
        repository=repository, principal=principal, page_id=page_id, first_day=first, last_day=last
    )


@router.get("/ratings", response_model=Rating)
def ratings(
    principal: CurrentPrincipal,
    repository: Repository,
    level: Literal["page", "region"] = "page",
    region: Annotated[KnownRegion | None, Query(description="the region of a page rating")] = None,
    period: PeriodParam = "week",
    day: Day = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Rating:
    """Pages of a region, or all regions, ranked by score over the period, each with its breakdown."""
    return service.ratings(
        repository=repository, principal=principal, level=level, region_code=region, period=period, day=day, limit=limit
    )


@router.get(
    "/reports/weekly",
    response_model=WeeklyReport,
    responses={200: {"content": {"text/csv": {}, reports.XLSX_MEDIA_TYPE: {}}}},
)
def weekly_report(
    principal: CurrentPrincipal,
    repository: Repository,
    region: RegionParam,
    week: Annotated[QueryDate | None, Query(description="a local day of the week (default: this week)")] = None,
    format: reports.ReportFormat = "json",
) -> WeeklyReport | Response:
    """The ЦУР weekly report: new vs resolved appeals, top-3 rubrics, overdue appeals, each institution."""
    report = reports.weekly_report(repository=repository, principal=principal, region_code=region, day=week)
    if format == "json":
        return report
    content, media_type = (
        (reports.as_csv(report), "text/csv; charset=utf-8")
        if format == "csv"
        else (reports.as_xlsx(report), reports.XLSX_MEDIA_TYPE)
    )
    filename = f"weekly-{region}-{report.week}.{format}"
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/national", response_model=NationalView)
def national(
    principal: CurrentPrincipal, repository: Repository, period: PeriodParam = "week", day: Day = None
) -> NationalView:
    """Pages, subscribers, appeals and answer KPIs of every region (federal admins)."""
    return service.national(repository=repository, principal=principal, period=period, day=day)


@router.post("/quality-marks/award", response_model=QualityMarks)
def award_quality_marks(principal: CurrentPrincipal, repository: Repository, award: QualityMarkAward) -> QualityMarks:
    """Give the quality mark of a year to the region's best pages by score (regional admins)."""
    return service.award_quality_marks(repository=repository, principal=principal, award=award)


@router.get("/quality-marks", response_model=QualityMarks)
def quality_marks(
    principal: CurrentPrincipal,
    repository: Repository,
    region: RegionParam,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="default: this year")] = None,
) -> QualityMarks:
    """The pages holding the region's quality mark of a year, with their scores."""
    return service.quality_marks(repository=repository, principal=principal, region_code=region, year=year)
