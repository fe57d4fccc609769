"""Export of a region's registry in the import columns, so exporting and importing the file changes nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.registry import spreadsheet
from services.registry.access import region_code_of, region_wide_scope
from services.registry.compliance import CHECKLIST_ITEMS
from services.registry.records import ChecklistEntry, InstitutionRecord, PageRecord
from services.registry.repository import RegistryRepository
from services.registry.spreadsheet import display
from shared.auth import Principal

Cells = dict[str, Any]
"""A record as spreadsheet cells: ``{column field: value as export writes it}``."""


def _yes_no(entry: ChecklistEntry | None, item: str) -> Any:
    if not entry:
        return None
    value = entry.get("value")
    if item == "pos_widgets":
        return int(value or 0)
    return "да" if value else "нет"


def institution_cells(institution: InstitutionRecord, *, parent_ogrn: str | None) -> Cells:
    """An institution's columns."""
    return {
        "name": institution["name"],
        "short_name": institution.get("short_name"),
        "inn": institution["inn"],
        "ogrn": institution["ogrn"],
        "kpp": institution.get("kpp"),
        "region": institution["region_code"],
        "oktmo": institution.get("oktmo"),
        "municipality": institution.get("municipality"),
        "time_zone": institution.get("time_zone"),
        "level": display(spreadsheet.LEVELS, institution["level"]),
        "kind": display(spreadsheet.KINDS, institution["kind"]),
        "spheres": "; ".join(display(spreadsheet.SPHERES, sphere) for sphere in institution["spheres"]),
        "parent_ogrn": parent_ogrn,
        "website": institution.get("website"),
        "status": display(spreadsheet.STATUSES, institution["status"]),
        "no_page_reason": institution.get("no_page_reason"),
    }


def page_cells(page: PageRecord) -> Cells:
    """A page's columns: its link in its platform's link column."""
    checklist = page.get("checklist") or {}
    link = spreadsheet.LINK_COLUMNS.get(page["platform"], spreadsheet.ANY_LINK_COLUMN)
    return {
        "platform": display(spreadsheet.PLATFORMS, page["platform"]),
        link.field: page["url"],
        "group_id": page.get("group_id"),
        "screen_name": page.get("screen_name"),
        "category": display(spreadsheet.CATEGORIES, page["category"]),
        "subscribers": page.get("subscribers"),
        **{item: _yes_no(checklist.get(item), item) for item in CHECKLIST_ITEMS},
        "quality_marks": ", ".join(str(year) for year in page.get("quality_marks") or []) or None,
        "page_status": display(spreadsheet.STATUSES, page["status"]),
        "compliance_pct": page.get("compliance_pct", 0),
    }


def _row(cells: Mapping[str, Any]) -> list[Any]:
    return [cells.get(column.field) for column in spreadsheet.COLUMNS]


def export_rows(*, repository: RegistryRepository, region_code: str) -> list[list[Any]]:
    """The region's registry as spreadsheet rows (every column of ``spreadsheet.COLUMNS``, in order), by name."""
    institutions = list(repository.institutions_in_region(region_code))
    pages: dict[str, list[PageRecord]] = {}
    for page in repository.pages_in_region(region_code):
        pages.setdefault(page["institution_id"], []).append(page)
    ogrns = {institution["id"]: institution["ogrn"] for institution in institutions}
    parents = {institution.get("parent_id") for institution in institutions}
    missing = {parent_id for parent_id in parents if parent_id and parent_id not in ogrns}
    ogrns.update({parent_id: parent["ogrn"] for parent_id, parent in repository.get_institutions(missing).items()})
    rows = []
    for institution in institutions:
        head = institution_cells(institution, parent_ogrn=ogrns.get(institution.get("parent_id") or ""))
        own = sorted(pages.get(institution["id"], []), key=lambda page: (page["created_at"], page["id"]))
        if not own:
            rows.append(_row(head))
        rows.extend(_row({**head, **page_cells(page)}) for page in own)
    return rows


def export_registry(
    *, repository: RegistryRepository, principal: Principal, region: str, fmt: str
) -> tuple[bytes, str, str]:
    """The region's registry as a file: ``(content, media type, file name)``; a region-wide read."""
    region_code = region_code_of(region)
    region_wide_scope(principal=principal, region=region_code, action="export the registry")
    rows = export_rows(repository=repository, region_code=region_code)
    if fmt == "csv":
        return spreadsheet.write_csv(rows), "text/csv; charset=utf-8", f"registry-{region_code}.csv"
    return spreadsheet.write_xlsx(rows), spreadsheet.XLSX_MEDIA_TYPE, f"registry-{region_code}.xlsx"
