"""Export of a region's registry in the import columns, so exporting and importing the file changes nothing."""

from __future__ import annotations

from typing import Any

from services.registry import spreadsheet
from services.registry.access import ensure_regional_reader, region_code_of
from services.registry.compliance import CHECKLIST_ITEMS
from services.registry.records import ChecklistEntry, InstitutionRecord, PageRecord
from services.registry.repository import RegistryRepository
from services.registry.spreadsheet import display
from shared.auth import Principal


def _yes_no(entry: ChecklistEntry | None, item: str) -> Any:
    if not entry:
        return None
    value = entry.get("value")
    if item == "pos_widgets":
        return int(value or 0)
    return "да" if value else "нет"


def _institution_cells(institution: InstitutionRecord, *, parent_ogrn: str | None) -> list[Any]:
    return [
        institution["name"],
        institution.get("short_name"),
        institution["inn"],
        institution["ogrn"],
        institution.get("kpp"),
        institution["region_code"],
        institution.get("oktmo"),
        institution.get("municipality"),
        display(spreadsheet.LEVELS, institution["level"]),
        display(spreadsheet.KINDS, institution["kind"]),
        "; ".join(display(spreadsheet.SPHERES, sphere) for sphere in institution["spheres"]),
        parent_ogrn,
        institution.get("website"),
        display(spreadsheet.STATUSES, institution["status"]),
        institution.get("no_page_reason"),
    ]


def _page_cells(page: PageRecord) -> list[Any]:
    checklist = page.get("checklist") or {}
    return [
        display(spreadsheet.PLATFORMS, page["platform"]),
        page["url"],
        page.get("group_id"),
        page.get("screen_name"),
        display(spreadsheet.CATEGORIES, page["category"]),
        page.get("subscribers"),
        *(_yes_no(checklist.get(item), item) for item in CHECKLIST_ITEMS),
        ", ".join(str(year) for year in page.get("quality_marks") or []) or None,
        display(spreadsheet.STATUSES, page["status"]),
        page.get("compliance_pct", 0),
    ]


def export_rows(*, repository: RegistryRepository, region_code: str) -> list[list[Any]]:
    """The region's registry as spreadsheet rows (``spreadsheet.COLUMNS`` order), sorted by name."""
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
        head = _institution_cells(institution, parent_ogrn=ogrns.get(institution.get("parent_id") or ""))
        own = sorted(pages.get(institution["id"], []), key=lambda page: (page["created_at"], page["id"]))
        if not own:
            rows.append(head)
        rows.extend([*head, *_page_cells(page)] for page in own)
    return rows


def export_registry(
    *, repository: RegistryRepository, principal: Principal, region: str, fmt: str
) -> tuple[bytes, str, str]:
    """The region's registry as a file: ``(content, media type, file name)``."""
    region_code = region_code_of(region)
    ensure_regional_reader(principal=principal)
    principal.readable_region(region_code)
    rows = export_rows(repository=repository, region_code=region_code)
    if fmt == "csv":
        return spreadsheet.write_csv(rows), "text/csv; charset=utf-8", f"registry-{region_code}.csv"
    return spreadsheet.write_xlsx(rows), spreadsheet.XLSX_MEDIA_TYPE, f"registry-{region_code}.xlsx"
