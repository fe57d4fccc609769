"""Metrics use cases: count batches once, keep the projection, and the scoped reads of dashboards and ratings."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from shared.config import get_settings
from shared.errors import ForbiddenError, NotFoundError, UnavailableError
from shared.events import (
    AppealAnswered,
    AppealClosed,
    AppealOverdue,
    InstitutionUpserted,
    PageArchived,
    PageUpserted,
    QualityMarkAwarded,
    make_event,
)
from shared.logs import get_logger
from shared.publisher import publish
from shared.regions import get_region
from shared.timeparams import day_range

from . import periods, scoring
from .counters import Contribution, median_response, summed, top_rubrics
from .models import (
    ActivityReport,
    Breakdown,
    DailyCounters,
    Dashboard,
    Kpis,
    NationalRow,
    NationalView,
    PageMetrics,
    QualityMark,
    QualityMarkAward,
    QualityMarks,
    Rating,
    RatingEntry,
    ScoreBreakdown,
)
from .periods import RatingPeriod
from .repository import DayCounters, MetricsRepository, ProjectedInstitution, ProjectedPage, Rollup, digest

if TYPE_CHECKING:
    from shared.auth import Principal

DEFAULT_PERIOD_DAYS = 7
MAX_PERIOD_DAYS = 366
COUNT_ATTEMPTS = 3
NATIONAL_ZONE = "03"  # a region whose zone is Moscow time: the national "today"
UNKNOWN_MUNICIPALITY = "unknown"
logger = get_logger("metrics")


# ---------------------------------------------------------------- counting and projection
def count(*, repository: MetricsRepository, contributions: Mapping[str, Contribution]) -> list[str]:
    """Add a batch's contributions, one write per page-day; the message ids whose page-day could not be written."""
    groups: dict[tuple[str, date], dict[str, Contribution]] = defaultdict(dict)
    for message_id, item in contributions.items():
        groups[(item.page_id, item.day)][message_id] = item
    failed: list[str] = []
    for members in groups.values():
        try:
            _count_page_day(repository, list({item.dedupe_id: item for item in members.values()}.values()))
        except Exception:  # the page-day's messages are retried by the queue; the guard keeps them from counting twice
            logger.exception("page-day counters not written", extra={"messages": len(members)})
            failed += list(members)
    return failed


def _count_page_day(repository: MetricsRepository, pending: list[Contribution]) -> None:
    first = pending[0]
    for _ in range(COUNT_ATTEMPTS):
        digests = [digest(item.dedupe_id) for item in pending]
        if repository.add_counters(
            page_id=first.page_id, region_code=first.region_code, day=first.day, deltas=summed(pending), seen=digests
        ):
            return
        seen = repository.seen_digests(page_id=first.page_id, day=first.day)
        pending = [item for item in pending if digest(item.dedupe_id) not in seen]
        if not pending:
            return
    raise UnavailableError("page-day counters keep changing, retry")


def apply_page(*, repository: MetricsRepository, page: PageUpserted | PageArchived) -> bool:
    """Keep the page's scope, category and compliance (and its region's page counts) if this revision is newer."""
    projected = ProjectedPage(
        page_id=page.page_id,
        institution_id=page.institution_id,
        region_code=page.region_code,
        group_id=page.group_id,
        status="archived",
        revision=page.revision,
    )
    if isinstance(page, PageUpserted):
        projected = replace(
            projected,
            status=page.status,
            category=page.category,
            compliance_pct=page.compliance_pct,
            subscribers=page.subscribers,
        )
    return repository.project_page(projected)


def municipality_of(oktmo: str | None) -> str | None:
    """The first-level municipal formation (municipal district, okrug or urban okrug) of an ОКТМО code: its first
    five digits and ``000`` (``50615101001`` -> ``50615000``); ``None`` without a valid code."""
    if not oktmo or not oktmo.isdigit() or len(oktmo) not in (8, 11):
        return None
    return f"{oktmo[:5]}000"


def apply_institution(*, repository: MetricsRepository, institution: InstitutionUpserted) -> bool:
    """Keep the institution's name, kind, spheres and ОКТМО (and its region's institution count) if newer."""
    return repository.project_institution(
        ProjectedInstitution(
            institution_id=institution.institution_id,
            region_code=institution.region_code,
            name=institution.name,
            kind=institution.kind,
            spheres=institution.spheres,
            status=institution.status,
            revision=institution.revision,
            oktmo=institution.oktmo,
        )
    )


def track_overdue(*, repository: MetricsRepository, appeal: AppealOverdue | AppealAnswered | AppealClosed) -> None:
    """Keep the region's list of overdue appeals: added when overdue, dropped once answered or closed."""
    if not isinstance(appeal, AppealOverdue):
        repository.clear_overdue(region_code=appeal.region_code, appeal_id=appeal.appeal_id)
    elif appeal.kind == "appeal":
        fields = {"page_id": appeal.page_id, "institution_id": appeal.institution_id, "rubric": appeal.rubric}
        repository.mark_overdue(
            region_code=appeal.region_code,
            appeal_id=appeal.appeal_id,
            fields={**fields, "due_at": appeal.due_at.isoformat()},
        )


# ---------------------------------------------------------------- shared read helpers
def today_in(region_code: str) -> date:
    """The current local day of a region."""
    return datetime.now(UTC).astimezone(get_region(region_code).zone).date()


def kpis(counts: Mapping[str, int]) -> Kpis:
    """The readable figures of summed counters."""
    received = max(counts.get("appeals_new", 0), counts.get("appeals_answered", 0))
    quality_count = counts.get("quality_count", 0)
    return Kpis(
        posts=counts.get("post", 0),
        reposts=counts.get("repost", 0),
        comments=counts.get("comment", 0),
        messages=counts.get("message", 0),
        likes=counts.get("like_add", 0) - counts.get("like_remove", 0),
        joins=counts.get("join", 0),
        leaves=counts.get("leave", 0),
        appeals_new=counts.get("appeals_new", 0),
        appeals_answered=counts.get("appeals_answered", 0),
        appeals_overdue=counts.get("appeals_overdue", 0),
        appeals_closed=counts.get("appeals_closed", 0),
        share_answered_in_sla=round(counts.get("appeals_in_sla", 0) / received, 4) if received else None,
        median_response_minutes=median_response(counts),
        answer_quality=round(counts.get("quality_sum", 0) / quality_count, 1) if quality_count else None,
        top_rubrics=top_rubrics(counts),
    )


def breakdown(score: scoring.Score) -> ScoreBreakdown:
    """The API form of a score."""
    return ScoreBreakdown.model_validate(
        {"total": score.total, "parts": {name: vars_of(part) for name, part in score.parts.items()}}
    )


def vars_of(part: scoring.Part) -> dict[str, Any]:
    """A score component as plain values."""
    return {"ratio": part.ratio, "points": part.points, "weight": part.weight, "basis": part.basis}


def page_weights(region_code: str) -> dict[str, float]:
    """The page score weights of a region."""
    return scoring.weights_for(region_code, scoring.PAGE_WEIGHTS, get_settings().metrics_score_weights)


def region_weights() -> dict[str, float]:
    """The region rating weights (the ``default`` override only: all regions are compared on one scale)."""
    return scoring.weights_for("default", scoring.REGION_WEIGHTS, get_settings().metrics_score_weights)


def _region_wide(principal: Principal, region_code: str | None, what: str) -> str | None:
    try:
        return principal.region_wide_scope(region_code)
    except ForbiddenError as error:
        raise ForbiddenError(f"{principal.role.value} may not read {what}: {error.message}") from None


def _visible_page(repository: MetricsRepository, principal: Principal, page_id: str) -> ProjectedPage:
    page = repository.get_page(page_id)
    if page is None:
        raise NotFoundError("not found", field="page_id")
    principal.ensure_can_read(region_code=page.region_code, institution_id=page.institution_id)
    return page


# ---------------------------------------------------------------- activity (daily counters)
def _period(first_day: date | None, last_day: date | None, *, region_code: str) -> tuple[date, date]:
    """The requested local days, by default the last 7 up to today in the region (422 if reversed or too long)."""
    today = today_in(region_code)
    return day_range(first_day, last_day, today=today, default_days=DEFAULT_PERIOD_DAYS, max_days=MAX_PERIOD_DAYS)


def _report(scope: str, days: list[DayCounters]) -> ActivityReport:
    totals: Counter[str] = Counter()
    series = []
    for day in days:
        activity = {kind: count for kind, count in day.counts.items() if kind in ACTIVITY_KINDS}
        totals.update(activity)
        if activity:
            series.append({"day": day.day, "counts": activity})
    return ActivityReport.model_validate({"scope": scope, "days": series, "totals": dict(totals)})


ACTIVITY_KINDS = frozenset({"post", "repost", "join", "leave", "like_add", "like_remove", "comment", "message"})


def page_activity(
    *, repository: MetricsRepository, principal: Principal, page_id: str, first_day: date | None, last_day: date | None
) -> ActivityReport:
    """Daily activity of one page inside the caller's scope (404 otherwise)."""
    page = _visible_page(repository, principal, page_id)
    first, last = _period(first_day, last_day, region_code=page.region_code)
    return _report(f"page:{page_id}", repository.page_days(page_id=page_id, first_day=first, last_day=last))


def region_activity(
    *,
    repository: MetricsRepository,
    principal: Principal,
    region_code: str,
    first_day: date | None,
    last_day: date | None,
) -> ActivityReport:
    """Daily activity summed over every page of a region (as of the last rollup): 404 for another region, 403 for
    an institution admin."""
    _region_wide(principal, region_code, "region metrics")
    first, last = _period(first_day, last_day, region_code=region_code)
    return _report(
        f"region:{region_code}", repository.region_days(region_code=region_code, first_day=first, last_day=last)
    )


# ---------------------------------------------------------------- page series and score
def page_metrics(
    *, repository: MetricsRepository, principal: Principal, page_id: str, first_day: date | None, last_day: date | None
) -> PageMetrics:
    """A page's daily counters and its score over the days (default: the last 30)."""
    page = _visible_page(repository, principal, page_id)
    first, last = day_range(
        first_day, last_day, today=today_in(page.region_code), default_days=30, max_days=MAX_PERIOD_DAYS
    )
    days = repository.page_days(page_id=page_id, first_day=first, last_day=last)
    totals = Counter[str]()
    for day in days:
        totals.update(day.counts)
    estimate = _subscriber_estimate(page.subscribers, days)
    score = scoring.page_score(
        counts=totals,
        days=(last - first).days + 1,
        category=page.category,
        compliance_pct=page.compliance_pct,
        subscribers=estimate,
        weights=page_weights(page.region_code),
    )
    return PageMetrics(
        page_id=page_id,
        first_day=first,
        last_day=last,
        subscribers=estimate,
        days=[DailyCounters(day=day.day, counts=day.counts, subscribers=day.subscribers) for day in days],
        kpis=kpis(totals),
        score=breakdown(score),
    )


def _subscriber_estimate(synced: int | None, days: list[DayCounters]) -> int | None:
    """The last synced subscriber count adjusted by joins and leaves on the days after that sync."""
    estimate = synced
    for day in days:
        if day.subscribers is not None:
            estimate = day.subscribers
        elif estimate is not None:
            estimate += day.counts.get("join", 0) - day.counts.get("leave", 0)
    return estimate


# ---------------------------------------------------------------- dashboards, ratings, national view
def _members(rollups: list[Rollup]) -> list[Breakdown]:
    ordered = sorted(rollups, key=lambda rollup: (-rollup.counts.get("appeals_new", 0), rollup.member))
    return [Breakdown(key=rollup.member, name=rollup.name, kpis=kpis(rollup.counts)) for rollup in ordered]


def by_municipality(institutions: list[Rollup]) -> list[Breakdown]:
    """Institution rollups summed per the municipality they carry (``unknown`` without an ОКТМО), with the number of
    institutions in each, busiest first."""
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    members: Counter[str] = Counter()
    for rollup in institutions:
        key = rollup.extra.get("municipality") or UNKNOWN_MUNICIPALITY
        sums[key].update(rollup.counts)
        members[key] += 1
    ordered = sorted(sums, key=lambda key: (-sums[key].get("appeals_new", 0), key))
    return [Breakdown(key=key, institutions=members[key], kpis=kpis(sums[key])) for key in ordered]


def dashboard(
    *, repository: MetricsRepository, principal: Principal, region_code: str, period: RatingPeriod, day: date | None
) -> Dashboard:
    """A region's figures over the period containing ``day`` (default today), from the precomputed rollups."""
    _region_wide(principal, region_code, "region dashboards")
    day = day or today_in(region_code)
    period_label = periods.label(period, day)
    first, last = periods.bounds(period, day)
    rollup = repository.region_rollup(region_code, period, period_label) or Rollup(
        member=region_code, period=period_label, counts={}
    )
    totals = repository.region_totals(region_code)
    institutions = repository.member_rollups(region_code, "INST", period, period_label)
    return Dashboard(
        region_code=region_code,
        period=period,
        label=period_label,
        first_day=first,
        last_day=last,
        pages=totals.pages,
        institutions=totals.institutions,
        coverage=round(totals.covered / totals.institutions, 4) if totals.institutions else None,
        subscribers=totals.subscribers,
        subscriber_growth=rollup.counts.get("subscriber_growth", 0),
        kpis=kpis(rollup.counts),
        score=ScoreBreakdown.model_validate(rollup.breakdown) if rollup.breakdown else None,
        by_kind=_members(repository.member_rollups(region_code, "KIND", period, period_label)),
        by_institution=_members(institutions),
        by_municipality=by_municipality(institutions),
        by_sphere=_members(repository.member_rollups(region_code, "SPHERE", period, period_label)),
    )


def _entries(rollups: list[Rollup]) -> list[RatingEntry]:
    return [
        RatingEntry(
            rank=rank,
            id=rollup.member,
            score=rollup.score or 0.0,
            breakdown=ScoreBreakdown.model_validate(rollup.breakdown) if rollup.breakdown else None,
            kpis=kpis(rollup.counts),
        )
        for rank, rollup in enumerate(rollups, start=1)
    ]


def ratings(
    *,
    repository: MetricsRepository,
    principal: Principal,
    level: str,
    region_code: str | None,
    period: RatingPeriod,
    day: date | None,
    limit: int,
) -> Rating:
    """Pages of a region (``level=page``) or all regions (``level=region``) ranked by score over the period."""
    if level == "region":
        _region_wide(principal, None if principal.region is None else principal.region, "region ratings")
        day = day or today_in(region_code or NATIONAL_ZONE)
        period_label = periods.label(period, day)
        items = repository.region_rating(period, period_label)[:limit]
        return Rating(level=level, period=period, label=period_label, items=_entries(items))
    region = _region_wide(principal, region_code, "page ratings")
    if region is None:
        raise NotFoundError("a page rating needs a region", field="region")
    day = day or today_in(region)
    period_label = periods.label(period, day)
    items = repository.page_rating(region, period, period_label, limit=limit)
    return Rating(level=level, region_code=region, period=period, label=period_label, items=_entries(items))


def national(
    *, repository: MetricsRepository, principal: Principal, period: RatingPeriod, day: date | None
) -> NationalView:
    """Every region's pages, subscribers, appeals and answer KPIs over the period (federal admins only)."""
    if principal.region is not None:
        raise ForbiddenError(f"{principal.role.value} may not read the national view: federal admins only")
    day = day or today_in(NATIONAL_ZONE)
    period_label = periods.label(period, day)
    regions = [
        NationalRow(
            region_code=rollup.member,
            score=rollup.score,
            kpis=kpis(rollup.counts),
            pages=int(rollup.counts.get("pages", 0)),
            subscribers=int(rollup.counts.get("subscribers", 0)),
        )
        for rollup in repository.region_rating(period, period_label)
    ]
    return NationalView(period=period, label=period_label, regions=regions)


# ---------------------------------------------------------------- quality marks
def award_quality_marks(
    *, repository: MetricsRepository, principal: Principal, award: QualityMarkAward
) -> QualityMarks:
    """Give the region's best pages of the year the quality mark and tell the registry (repeatable: same result)."""
    principal.ensure_can_write(region_code=award.region_code)
    if principal.role.value not in ("federal_admin", "regional_admin"):
        raise ForbiddenError(f"{principal.role.value} may not award quality marks: regional admins only")
    ranked = repository.page_rating(award.region_code, "year", str(award.year), limit=None)
    if award.top_percent is not None:
        winners = ranked[: math.ceil(len(ranked) * award.top_percent / 100)]
    else:
        winners = [rollup for rollup in ranked if (rollup.score or 0) >= (award.min_score or 0)]
    chosen = [(rollup.member, rollup.score or 0.0) for rollup in winners]
    repository.put_marks(region_code=award.region_code, year=award.year, winners=chosen)
    events = [
        make_event(
            "metrics", QualityMarkAwarded(page_id=page_id, region_code=award.region_code, year=award.year, score=score)
        )
        for page_id, score in chosen
    ]
    if events and get_settings().registry_metrics_queue_url:
        publish(events, queue_urls=[get_settings().registry_metrics_queue_url])
    return QualityMarks(
        region_code=award.region_code,
        year=award.year,
        items=[QualityMark(page_id=page_id, score=score) for page_id, score in chosen],
    )


def quality_marks(
    *, repository: MetricsRepository, principal: Principal, region_code: str, year: int | None
) -> QualityMarks:
    """The pages holding the region's quality mark of a year (default: this year), with their scores."""
    _region_wide(principal, region_code, "quality marks")
    year = year or today_in(region_code).year
    items = [
        QualityMark(page_id=page_id, score=score)
        for page_id, score in repository.marks(region_code=region_code, year=year)
    ]
    return QualityMarks(region_code=region_code, year=year, items=items)
