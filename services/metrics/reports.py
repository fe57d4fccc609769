"""The ЦУР weekly report of a region: JSON, CSV or an XLSX workbook with a chart of appeals per day."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

from shared.errors import ForbiddenError

from . import periods
from .counters import top_rubrics
from .models import OverdueAppeal, WeeklyDay, WeeklyReport
from .repository import MetricsRepository
from .service import _members, _region_wide, today_in

if TYPE_CHECKING:
    from shared.auth import Principal

ReportFormat = Literal["json", "csv", "xlsx"]
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def weekly_report(
    *, repository: MetricsRepository, principal: Principal, region_code: str, day: date | None
) -> WeeklyReport:
    """New vs resolved appeals, top-3 rubrics, the overdue list and each institution's figures of a week."""
    if principal.role.value == "portal":
        raise ForbiddenError("portal may not read the weekly report: it lists appeals; read the dashboard")
    _region_wide(principal, region_code, "the weekly report")
    day = day or today_in(region_code)
    first, last = periods.bounds("week", day)
    week = periods.label("week", day)
    rollup = repository.region_rollup(region_code, "week", week)
    counts = rollup.counts if rollup else {}
    days = {
        item.day: item.counts
        for item in repository.region_days(region_code=region_code, first_day=first, last_day=last)
    }
    series = []
    for offset in range(7):
        current = first + timedelta(days=offset)
        counted = days.get(current, {})
        series.append(
            WeeklyDay(
                day=current,
                appeals_new=counted.get("appeals_new", 0),
                appeals_answered=counted.get("appeals_answered", 0),
                appeals_closed=counted.get("appeals_closed", 0),
            )
        )
    overdue = [
        OverdueAppeal(
            appeal_id=item["SK"],
            page_id=item["page_id"],
            institution_id=item["institution_id"],
            rubric=item.get("rubric"),
            due_at=item["due_at"],
        )
        for item in sorted(repository.overdue(region_code), key=lambda item: item["due_at"])
    ]
    return WeeklyReport(
        region_code=region_code,
        week=week,
        first_day=first,
        last_day=last,
        appeals_new=counts.get("appeals_new", 0),
        appeals_resolved=counts.get("appeals_closed", 0),
        appeals_answered=counts.get("appeals_answered", 0),
        top_rubrics=top_rubrics(counts),
        days=series,
        overdue=overdue,
        by_institution=_members(repository.member_rollups(region_code, "INST", "week", week)),
    )


def _institution_rows(report: WeeklyReport) -> list[list[object]]:
    return [
        [
            row.key,
            row.name or "",
            row.kpis.appeals_new,
            row.kpis.appeals_answered,
            row.kpis.appeals_overdue,
            row.kpis.appeals_closed,
            row.kpis.share_answered_in_sla,
            row.kpis.median_response_minutes,
        ]
        for row in report.by_institution
    ]


INSTITUTION_HEADER = [
    "institution_id",
    "Учреждение",
    "Новые",
    "Отвечено",
    "Просрочено",
    "Закрыто",
    "Доля в срок",
    "Медиана, мин",
]


def as_csv(report: WeeklyReport) -> bytes:
    """The report as CSV sections (summary, days, rubrics, institutions, overdue), UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(
        [
            ["Регион", report.region_code],
            ["Неделя", report.week],
            ["Новые обращения", report.appeals_new],
            ["Решено (закрыто)", report.appeals_resolved],
            ["Отвечено", report.appeals_answered],
            [],
        ]
    )
    writer.writerow(["День", "Новые", "Отвечено", "Закрыто"])
    writer.writerows([[d.day.isoformat(), d.appeals_new, d.appeals_answered, d.appeals_closed] for d in report.days])
    writer.writerows([[], ["Рубрика", "Обращений"], *[[name, count] for name, count in report.top_rubrics], []])
    writer.writerows([INSTITUTION_HEADER, *_institution_rows(report), []])
    writer.writerow(["Просрочено: appeal_id", "page_id", "institution_id", "Рубрика", "Срок"])
    writer.writerows([[a.appeal_id, a.page_id, a.institution_id, a.rubric or "", a.due_at] for a in report.overdue])
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(report: WeeklyReport) -> bytes:
    """The report as a workbook: a summary sheet with a bar chart of appeals per day, institutions, overdue."""
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Неделя"
    for row in (
        ["Регион", report.region_code],
        ["Неделя", report.week],
        ["Новые обращения", report.appeals_new],
        ["Решено (закрыто)", report.appeals_resolved],
        ["Отвечено", report.appeals_answered],
    ):
        summary.append(row)
    summary.append([])
    header_row = summary.max_row + 1
    summary.append(["День", "Новые", "Отвечено", "Закрыто"])
    for item in report.days:
        summary.append([item.day.isoformat(), item.appeals_new, item.appeals_answered, item.appeals_closed])
    chart = BarChart()
    chart.title = "Обращения по дням"
    chart.y_axis.title = "Обращений"
    data = Reference(summary, min_col=2, max_col=4, min_row=header_row, max_row=header_row + 7)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(summary, min_col=1, min_row=header_row + 1, max_row=header_row + 7))
    summary.add_chart(chart, "F2")
    summary.append([])
    summary.append(["Рубрика", "Обращений"])
    for name, count in report.top_rubrics:
        summary.append([name, count])
    institutions = book.create_sheet("Учреждения")
    institutions.append(INSTITUTION_HEADER)
    for values in _institution_rows(report):
        institutions.append(values)
    overdue = book.create_sheet("Просрочено")
    overdue.append(["appeal_id", "page_id", "institution_id", "Рубрика", "Срок"])
    for appeal in report.overdue:
        overdue.append([appeal.appeal_id, appeal.page_id, appeal.institution_id, appeal.rubric or "", appeal.due_at])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
