"""Scheduled rollups (``MetricsRollupFunction``, no FastAPI import): changed page-days into every rollup.

Each run reads only the changed-pages set (the sparse index the counting worker and the subscriber sync fill), adds
each changed page-day's difference since the last run to the page's, region's, institution's (and so its
municipality's), kind's and sphere's day / week / month / quarter / year rollups in one transaction that also marks
the day rolled (a day counted again meanwhile stays in the set), rescores the page, then rescores every region it
touched. The scheduler's input says which days: ``current`` (hourly: each region's local today), ``closed`` (nightly:
the days before it, including closed days that got late events) or ``all`` (the default). A finished run is recorded
under its scheduler execution id, so a retried run does nothing twice.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal

from shared.config import get_settings
from shared.logs import get_logger, invocation_context
from shared.regions import REGIONS
from shared.workers import ScheduledRun

from . import bootstrap, periods, scoring
from .periods import Period
from .repository import ChangedDay, MetricsRepository, ProjectedPage, RollupWrite
from .service import municipality_of, page_weights, region_weights, today_in, vars_of

MAX_DAYS_PER_RUN = 20_000
Days = Literal["current", "closed", "all"]
logger = get_logger("metrics")


class RollupRun(ScheduledRun):
    """The scheduler's input of a rollup run: which days it rolls."""

    days: Days = "all"


def _deltas(changed: ChangedDay) -> dict[str, int]:
    names = set(changed.counts) | {name for name in changed.rolled if name != "subscribers"}
    deltas = {name: changed.counts.get(name, 0) - changed.rolled.get(name, 0) for name in names}
    return {name: value for name, value in deltas.items() if value}


def _elapsed_days(period: Period, day: date, today: date) -> int:
    first, last = periods.bounds(period, day)
    return max(1, (min(last, today) - first).days + 1)


def _write_for(repository: MetricsRepository, changed: ChangedDay, page: ProjectedPage) -> RollupWrite:
    """What the page-day adds to the rollups, with the page's new score of every period containing it."""
    institution = repository.get_institution(page.institution_id)
    deltas = _deltas(changed)
    synced = changed.subscribers if changed.subscribers != changed.rolled.get("subscribers") else None
    subscribers = page.subscribers
    if synced is not None:
        if page.subscribers is not None and synced != page.subscribers:
            deltas["subscriber_growth"] = synced - page.subscribers
        subscribers = synced
    labels: dict[Period, str] = {"day": periods.label("day", changed.day)}
    labels |= {period: periods.label(period, changed.day) for period in periods.ROLLUP_PERIODS}
    stored = repository.page_periods(page.page_id, {period: labels[period] for period in periods.ROLLUP_PERIODS})
    today = today_in(page.region_code)
    scores: dict[Period, tuple[float, dict[str, object], float | None]] = {}
    for period in periods.ROLLUP_PERIODS:
        before = stored.get(period)
        counts = dict(before.counts) if before else {}
        for name, value in deltas.items():
            counts[name] = counts.get(name, 0) + value
        score = scoring.page_score(
            counts=counts,
            days=_elapsed_days(period, changed.day, today),
            category=page.category,
            compliance_pct=page.compliance_pct,
            subscribers=subscribers,
            weights=page_weights(page.region_code),
        )
        parts = {name: vars_of(part) for name, part in score.parts.items()}
        scores[period] = (score.total, {"total": score.total, "parts": parts}, before.score if before else None)
    return RollupWrite(
        changed=changed,
        region_code=page.region_code,
        institution_id=page.institution_id,
        kind=institution.kind if institution else "unknown",
        sphere=institution.spheres[0] if institution and institution.spheres else None,
        deltas=deltas,
        periods=labels,
        page_scores=scores,
        subscribers=synced,
        subscribers_delta=(synced - (page.subscribers or 0)) if synced is not None else 0,
        institution_name=institution.name if institution else None,
        municipality=municipality_of(institution.oktmo) if institution else None,
    )


def rescore_region(repository: MetricsRepository, region_code: str, day: date) -> None:
    """The region's rating score of every period containing ``day``."""
    totals = repository.region_totals(region_code)
    audience = (get_settings().metrics_internet_audience or {}).get(region_code)
    today = today_in(region_code)
    for period in periods.ROLLUP_PERIODS:
        period_label = periods.label(period, day)
        rollup = repository.region_rollup(region_code, period, period_label)
        if rollup is None:
            continue
        scored = rollup.counts.get("scored_pages", 0)
        score = scoring.region_score(
            counts=rollup.counts,
            days=_elapsed_days(period, day, today),
            pages=totals.pages,
            institutions=totals.institutions,
            covered=totals.covered,
            subscribers=totals.subscribers,
            average_page_score=rollup.counts.get("score_sum_x10", 0) / 10 / scored if scored else None,
            internet_audience=audience,
            weights=region_weights(),
        )
        parts = {name: vars_of(part) for name, part in score.parts.items()}
        repository.set_region_score(
            region_code=region_code,
            period=period,
            period_label=period_label,
            score=score.total,
            breakdown={"total": score.total, "parts": parts},
            totals=totals,
        )


def _changed(repository: MetricsRepository, days: Days) -> list[ChangedDay]:
    """The changed page-days of a run: the index is read by the range of local todays across the country, each day is
    then kept if it is (``current``) or is not yet (``closed``) on or after its region's today."""
    if days == "all":
        return list(repository.changed_days(MAX_DAYS_PER_RUN))
    todays = {region.code: today_in(region.code) for region in REGIONS}
    if days == "current":
        found = repository.changed_days(MAX_DAYS_PER_RUN, from_day=min(todays.values()))
        return [day for day in found if day.day >= todays.get(day.region_code or "", day.day)]
    found = repository.changed_days(MAX_DAYS_PER_RUN, before_day=max(todays.values()))
    return [day for day in found if day.day < todays.get(day.region_code or "", day.day)]


def roll_up(*, repository: MetricsRepository, execution_id: str, days: Days = "all") -> dict[str, int]:
    """Roll the changed page-days of ``days`` up once; a repeated execution id returns the first run's summary."""
    done = repository.run_summary(execution_id)
    if done is not None:
        return {name: int(value) for name, value in done.items()}
    rolled = waiting = raced = 0
    touched: set[tuple[str, date]] = set()
    for changed in _changed(repository, days):
        page = repository.get_page(changed.page_id)
        if page is None:  # counted before the registry announced the page: rolled once it is projected
            waiting += 1
            continue
        if repository.apply_rollup(_write_for(repository, changed, page)):
            rolled += 1
            touched.add((page.region_code, changed.day))
        else:
            raced += 1
    for region_code, day in touched:
        rescore_region(repository, region_code, day)
    summary = {"rolled": rolled, "waiting": waiting, "raced": raced, "regions": len({r for r, _ in touched})}
    repository.finish_run(execution_id, summary)
    return summary


def run(scheduled: RollupRun) -> dict[str, int]:
    """One scheduled rollup run."""
    return roll_up(repository=bootstrap.repository(), execution_id=scheduled.execution_id, days=scheduled.days)


@invocation_context(logger)
def handler(event: dict[str, Any] | str, context: Any) -> dict[str, Any]:  # noqa: ARG001 - Lambda signature
    """Schedule entrypoint: the scheduler's input (``days`` included) in, the run's summary out."""
    scheduled = RollupRun.model_validate(event if isinstance(event, dict) else json.loads(event))
    return {"execution_id": scheduled.execution_id, "result": run(scheduled)}
