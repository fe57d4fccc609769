"""Bulk import (upsert by OGRN and page link) and export of a region's registry.

Import reads the whole file, validates every row (a broken row is reported as ``{row, column, message}`` and skipped,
never aborting the others), looks existing institutions and pages up by their uniqueness guards with BatchGetItem,
and commits only what changed, packed into 25-item transactions with counters and outbox items. So re-importing a
file, or importing an export, changes nothing and reports every row as ``unchanged``. ``dry_run`` does all of it
except the writes. Archiving an institution through import does not archive its pages (the API does).

A new institution needs name, INN, OGRN, type and sphere; the level defaults to ``municipal`` when a municipality is
given and to ``regional`` otherwise. A new page gets its platform from its link and the category ``card`` unless
the row says otherwise.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.registry import publishing, repository, service, spreadsheet, validation
from services.registry.compliance import CHECKLIST_ITEMS
from services.registry.models import ImportProblem, ImportReport
from services.registry.repository import Unit
from services.registry.spreadsheet import Problem, cell_text, display, normalize, vocabulary
from shared.auth import Principal
from shared.errors import InvalidInputError
from shared.regions import REGIONS, UnknownRegionError, normalize_region_code

PAGES_PER_UNIT = 4
UNITS_PER_COMMIT = 500
# Events of a large import are left in the outbox for the relay (within a minute): publishing tens of thousands
# of messages would not fit the API's 29 s timeout.
INLINE_PUBLISH_EVENTS = 1000
_ID_NAMESPACE = uuid.UUID("6f1c3c5e-7d6b-4f1e-9a55-2f7c1d0b9e21")
_LIST_SEPARATORS = re.compile(r"[;,/\n]+")
_VOCABULARIES = {
    "level": vocabulary(spreadsheet.LEVELS),
    "kind": vocabulary(spreadsheet.KINDS),
    "platform": vocabulary(spreadsheet.PLATFORMS),
    "category": vocabulary(spreadsheet.CATEGORIES),
    "status": vocabulary(spreadsheet.STATUSES),
    "page_status": vocabulary(spreadsheet.STATUSES),
}
_SPHERES = vocabulary(spreadsheet.SPHERES)
_REGION_NAMES = {normalize(region.name): region.code for region in REGIONS}
_TEXT_FIELDS = {"name", "short_name", "municipality", "no_page_reason", "screen_name"}
_PAGE_FIELDS = {"platform", "group_id", "screen_name", "category", "subscribers", "quality_marks", "page_status"}
_INSTITUTION_FIELDS = set(service.INSTITUTION_FIELDS) | {"status"}


def _stable_ids(values: set[str], *, kind: str, key: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """Ids derived from OGRN / page link (a retried import makes the same items); random if one is taken."""
    ids = {value: uuid.uuid5(_ID_NAMESPACE, f"{kind}:{value}").hex for value in values}
    taken = repository.batch_get(key(new_id) for new_id in ids.values())
    return {value: repository.new_id() if _pair(key(new_id)) in taken else new_id for value, new_id in ids.items()}


def _pair(key: Mapping[str, str]) -> tuple[str, str]:
    return key["PK"], key["SK"]


@dataclass
class Row:
    """One validated data row."""

    number: int
    institution: dict[str, Any]
    parent_ogrn: str | None = None
    page: dict[str, Any] | None = None
    checklist: dict[str, Any] = field(default_factory=dict)


def _digits(raw: Any, text: str, lengths: Mapping[int, int]) -> str:
    """Restore leading zeros that a numeric spreadsheet cell dropped (e.g. a 9-digit INN of region 01-09)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and len(text) in lengths:
        return text.zfill(lengths[len(text)])
    return text


def _choice(name: str, text: str) -> str:
    code = _VOCABULARIES[name].get(normalize(text))
    if code is None:
        raise ValueError(f"unknown value '{text}'")
    return code


def _spheres(text: str) -> list[str]:
    result: list[str] = []
    for part in filter(None, (p.strip() for p in _LIST_SEPARATORS.split(text))):
        code = _SPHERES.get(normalize(part))
        if code is None:
            raise ValueError(f"unknown sphere '{part}'")
        if code not in result:
            result.append(code)
    if not 1 <= len(result) <= 3:
        raise ValueError("give 1 to 3 spheres")
    return result


def _boolean(text: str) -> bool:
    value = normalize(text)
    if value in spreadsheet.YES:
        return True
    if value in spreadsheet.NO:
        return False
    raise ValueError(f"expected да or нет, got '{text}'")


def _integer(text: str, *, low: int, high: int) -> int:
    compact = text.replace(" ", "").replace("\u00a0", "")
    if not compact.isdigit():
        raise ValueError("must be a whole number")
    value = int(compact)
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    return value


def _region(text: str) -> str:
    try:
        return normalize_region_code(text)
    except UnknownRegionError:
        code = _REGION_NAMES.get(normalize(text))
        if code is None:
            raise ValueError(f"unknown region '{text}'") from None
        return code


def _years(text: str) -> list[int]:
    parts = filter(None, (p.strip() for p in re.split(r"[;,\s]+", text)))
    return sorted({_integer(part, low=2000, high=2100) for part in parts})


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "inn": lambda raw, text: validation.validate_inn(_digits(raw, text, {9: 10})),
    "ogrn": lambda _, text: validation.validate_ogrn(text),
    "parent_ogrn": lambda _, text: validation.validate_ogrn(text),
    "kpp": lambda raw, text: validation.validate_kpp(_digits(raw, text, {8: 9})),
    "oktmo": lambda raw, text: validation.validate_oktmo(_digits(raw, text, {7: 8, 10: 11})),
    "region": lambda _, text: _region(text),
    "spheres": lambda _, text: _spheres(text),
    "website": lambda _, text: validation.validate_url(text),
    "url": lambda _, text: validation.validate_url(text),
    "group_id": lambda _, text: _integer(text, low=1, high=10**12 - 1),
    "subscribers": lambda _, text: _integer(text, low=0, high=10**10),
    "quality_marks": lambda _, text: _years(text),
    "pos_widgets": lambda _, text: _integer(text, low=0, high=2),
}


def parse_row(
    number: int, values: Mapping[str, Any], *, labels: Mapping[str, str], region_code: str
) -> Row | list[Problem]:
    """A validated row, or every problem found in it."""
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for name, raw in values.items():
        text = cell_text(raw)
        if text is None:
            continue
        try:
            if name in _PARSERS:
                parsed[name] = _PARSERS[name](raw, text)
            elif name in _VOCABULARIES:
                parsed[name] = _choice(name, text)
            elif name in CHECKLIST_ITEMS:
                parsed[name] = _boolean(text)
            elif name in _TEXT_FIELDS:
                if len(text) > 500:
                    raise ValueError("longer than 500 characters")
                parsed[name] = " ".join(text.split())
        except ValueError as error:
            problems.append(Problem(number, labels.get(name, name), str(error)))
    for required in ("name", "inn", "ogrn"):
        if required not in parsed and not any(p.column == labels.get(required) for p in problems):
            problems.append(Problem(number, labels.get(required, required), "required"))
    row_region = parsed.pop("region", region_code)
    if row_region != region_code:
        problems.append(Problem(number, labels.get("region"), f"the row is for region {row_region}, not {region_code}"))
    if "url" not in parsed and _PAGE_FIELDS & parsed.keys():
        problems.append(Problem(number, labels.get("url", "url"), "required when page columns are filled"))
    if problems:
        return problems
    row = Row(number=number, institution={k: v for k, v in parsed.items() if k in _INSTITUTION_FIELDS})
    row.parent_ogrn = parsed.get("parent_ogrn")
    row.checklist = {k: v for k, v in parsed.items() if k in CHECKLIST_ITEMS}
    if "url" in parsed:
        row.page = {k: v for k, v in parsed.items() if k in _PAGE_FIELDS or k == "url"}
        if "page_status" in row.page:
            row.page["status"] = row.page.pop("page_status")
    return row


@dataclass
class _Group:
    """Rows of one institution (same OGRN)."""

    ogrn: str
    rows: list[Row] = field(default_factory=list)
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    pages: list[tuple[Row, dict[str, Any] | None, dict[str, Any]]] = field(default_factory=list)


class _Importer:
    """One import run: rows -> plan (units) -> report."""

    def __init__(self, region_code: str, labels: Mapping[str, str]) -> None:
        self.region_code = region_code
        self.labels = labels
        self.now = repository.now_iso()
        self.problems: list[Problem] = []
        self.outcome: dict[int, str] = {}
        self.page_ids: dict[str, str] = {}

    def fail(self, row: Row, name: str, message: str) -> None:
        self.problems.append(Problem(row.number, self.labels.get(name, name), message))
        self.outcome.pop(row.number, None)

    def group(self, rows: list[Row]) -> list[_Group]:
        groups: dict[str, _Group] = {}
        first_values: dict[str, tuple[int, dict[str, Any]]] = {}
        for row in rows:
            ogrn = row.institution["ogrn"]
            if ogrn in first_values:
                number, values = first_values[ogrn]
                clash = next((k for k, v in row.institution.items() if k in values and values[k] != v), None)
                if clash:
                    self.fail(row, clash, f"differs from row {number} of the same OGRN")
                    continue
                values.update({k: v for k, v in row.institution.items() if k not in values})
            else:
                first_values[ogrn] = (row.number, dict(row.institution))
            groups.setdefault(ogrn, _Group(ogrn=ogrn)).rows.append(row)
        for group in groups.values():
            group.rows[0].institution = first_values[group.ogrn][1]
        return list(groups.values())

    def resolve_institutions(self, groups: list[_Group]) -> None:
        parent_ogrns = {row.parent_ogrn for g in groups for row in g.rows if row.parent_ogrn}
        guards = repository.batch_get(repository.guard_key("OGRN", o) for o in {g.ogrn for g in groups} | parent_ogrns)
        ids = {pk.removeprefix("OGRN#"): item["owner_id"] for (pk, _), item in guards.items()}
        stored = repository.batch_get(repository.institution_key(ids[g.ogrn]) for g in groups if g.ogrn in ids)
        new_ids = _stable_ids(
            {g.ogrn for g in groups if g.ogrn not in ids}, kind="ogrn", key=repository.institution_key
        )
        for group in groups:
            head = group.rows[0]
            if group.ogrn in ids:
                item = stored.get(_pair(repository.institution_key(ids[group.ogrn])))
                if item is None:
                    self.fail(head, "ogrn", "registered but its institution is missing, contact support")
                    group.rows = []
                    continue
                group.before = repository.strip_keys(item)
                if group.before["region_code"] != self.region_code:
                    for row in group.rows:
                        self.fail(row, "ogrn", f"registered in region {group.before['region_code']}")
                    group.rows = []
                    continue
                fields = {**group.before, **head.institution}
            else:
                missing = [name for name in ("kind", "spheres") if name not in head.institution]
                if missing:
                    for row in group.rows:
                        self.fail(row, missing[0], "required for a new institution")
                    group.rows = []
                    continue
                default_level = "municipal" if head.institution.get("municipality") else "regional"
                fields = {
                    "level": default_level,
                    "status": "active",
                    **head.institution,
                    "id": new_ids[group.ogrn],
                    "region_code": self.region_code,
                    "page_stats": {},
                    "revision": 1,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            if head.parent_ogrn:
                parent_id = ids.get(head.parent_ogrn) or new_ids.get(head.parent_ogrn)
                if parent_id is None or head.parent_ogrn == group.ogrn:
                    for row in group.rows:
                        self.fail(row, "parent_ogrn", "no other institution with this OGRN in the registry or the file")
                    group.rows = []
                    continue
                fields["parent_id"] = parent_id
            group.after = service.clean(fields)
            self.outcome[head.number] = (
                "created" if group.before is None else ("unchanged" if group.after == group.before else "updated")
            )

    def resolve_pages(self, groups: list[_Group]) -> None:
        rows = [(g, row) for g in groups if g.after is not None for row in g.rows if row.page]
        url_keys = {validation.url_key(row.page["url"]) for _, row in rows if row.page}
        guards = repository.batch_get(repository.guard_key("PAGEURL", key) for key in url_keys)
        owners = {pk.removeprefix("PAGEURL#"): item["owner_id"] for (pk, _), item in guards.items()}
        stored = repository.batch_get(repository.page_key(page_id) for page_id in owners.values())
        self.page_ids = _stable_ids(url_keys - owners.keys(), kind="url", key=repository.page_key)
        seen_urls: dict[str, int] = {}
        candidates: list[tuple[_Group, Row, dict[str, Any] | None, dict[str, Any]]] = []
        for group, row in rows:
            assert row.page is not None and group.after is not None
            key = validation.url_key(row.page["url"])
            if key in seen_urls:
                self.fail(row, "url", f"the same page as row {seen_urls[key]}")
                continue
            seen_urls[key] = row.number
            before = None
            if key in owners:
                item = stored.get(_pair(repository.page_key(owners[key])))
                before = repository.strip_keys(item) if item else None
                if before and before["institution_id"] != group.after["id"]:
                    self.fail(row, "url", f"registered for another institution (page {before['id']})")
                    continue
            try:
                after = self.page_state(group.after, before, row)
            except InvalidInputError as error:
                self.fail(row, error.field or "url", error.message)
                continue
            candidates.append((group, row, before, after))
        self.check_group_ids(candidates)

    def page_state(self, institution: Mapping[str, Any], before: dict[str, Any] | None, row: Row) -> dict[str, Any]:
        assert row.page is not None
        values = dict(row.page)
        if before is None:
            values.setdefault("platform", validation.platform_of(values["url"]) or "vk")
            base: dict[str, Any] = {
                "category": "card",
                "status": "active",
                "quality_marks": [],
                "checklist": {},
                "has_access_token": False,
                "id": self.page_ids[validation.url_key(values["url"])],
                "institution_id": institution["id"],
                "region_code": institution["region_code"],
                "revision": 1,
                "created_at": self.now,
                "updated_at": self.now,
            }
        else:
            base = before
        after = {**base, **values}
        after["checklist"] = service.merge_checklist(
            base.get("checklist") or {}, row.checklist, checked_at=self.now, only_changed=True
        )
        after = service.finish_page(service.check_page_fields(after))
        if after["status"] == "active" and institution["status"] != "active":
            raise InvalidInputError("the institution is archived", field="page_status")
        return after if before is None or after == before else service.bump(after, at=self.now)

    def check_group_ids(self, candidates: list[tuple[_Group, Row, dict[str, Any] | None, dict[str, Any]]]) -> None:
        wanted = {
            after["group_id"]
            for _, _, before, after in candidates
            if after.get("group_id") is not None and (before is None or before.get("group_id") != after["group_id"])
        }
        guards = repository.batch_get(repository.guard_key("VKGROUP", group_id) for group_id in wanted)
        owners = {int(pk.removeprefix("VKGROUP#")): item["owner_id"] for (pk, _), item in guards.items()}
        seen: dict[int, int] = {}
        for group, row, before, after in candidates:
            group_id = after.get("group_id")
            if group_id is not None:
                owner = owners.get(group_id)
                if owner is not None and owner != after["id"]:
                    self.fail(row, "group_id", f"community {group_id} is already registered (page {owner})")
                    continue
                if group_id in seen:
                    self.fail(row, "group_id", f"the same community as row {seen[group_id]}")
                    continue
                seen[group_id] = row.number
            group.pages.append((row, before, after))
            change = "created" if before is None else ("unchanged" if after == before else "updated")
            previous = self.outcome.get(row.number, "unchanged")
            ranks = ("unchanged", "updated", "created")
            self.outcome[row.number] = max(previous, change, key=ranks.index)

    def units(self, groups: list[_Group]) -> list[Unit]:
        units: list[Unit] = []
        for group in groups:
            if group.after is None or not any(row.number in self.outcome for row in group.rows):
                continue  # every row of this institution failed
            changed_pages = [(row, b, a) for row, b, a in group.pages if b != a]
            fields_changed = group.before is None or group.after != group.before
            if not fields_changed and not changed_pages:
                continue
            current = group.before
            state = group.after
            chunks = [changed_pages[i : i + PAGES_PER_UNIT] for i in range(0, len(changed_pages), PAGES_PER_UNIT)]
            for index, chunk in enumerate(chunks or [[]]):
                after = state
                for _, before_page, after_page in chunk:
                    after = service.with_page_change(after, before_page, after_page)
                if current is not None and after != current:
                    after = service.bump({**after, "revision": current["revision"]}, at=self.now)
                unit = Unit(institution_before=current, institution_after=after, tag=[r.number for r, _, _ in chunk])
                if index == 0 and fields_changed:
                    unit.events.append(service.institution_event(after))
                    unit.tag.append(group.rows[0].number if group.rows else None)
                unit.pages = [(b, a) for _, b, a in chunk]
                unit.events.extend(service.page_event(a) for _, _, a in chunk)
                units.append(unit)
                current = after
                state = after
        return units

    def apply(self, units: list[Unit]) -> None:
        entries = []
        for start in range(0, len(units), UNITS_PER_COMMIT):
            entries.extend(repository.write_bulk(units[start : start + UNITS_PER_COMMIT]))
        if sum(len(entry.events) for entry in entries) <= INLINE_PUBLISH_EVENTS:
            publishing.dispatch(entries)


def import_registry(
    *, principal: Principal, region: str, content: bytes, filename: str | None = None, dry_run: bool = False
) -> ImportReport:
    """Upsert a region's institutions and pages from an XLSX or CSV file; report per row."""
    region_code = service.region_code_of(region)
    service.ensure_institution_writer(principal, region_code=region_code)
    table = spreadsheet.read_table(content, filename=filename)
    importer = _Importer(region_code, table.labels)
    importer.problems.extend(table.problems)
    rows: list[Row] = []
    for number, values in table.rows:
        parsed = parse_row(number, values, labels=table.labels, region_code=region_code)
        if isinstance(parsed, Row):
            rows.append(parsed)
        else:
            importer.problems.extend(parsed)
    groups = importer.group(rows)
    importer.resolve_institutions(groups)
    importer.resolve_pages(groups)
    failed_rows = {problem.row for problem in importer.problems}
    for row in rows:
        if row.number not in failed_rows:
            importer.outcome.setdefault(row.number, "unchanged")
    if not dry_run:
        importer.apply(importer.units(groups))
    counts = {
        name: sum(1 for v in importer.outcome.values() if v == name) for name in ("created", "updated", "unchanged")
    }
    problems = sorted(importer.problems, key=lambda p: (p.row, p.column or ""))
    return ImportReport(
        dry_run=dry_run,
        rows=len(table.rows),
        **counts,
        skipped=len(table.rows) - sum(counts.values()),
        errors=[ImportProblem(row=p.row, column=p.column, message=p.message) for p in problems],
    )


# ---------------------------------------------------------------- export


def _yes_no(entry: Mapping[str, Any] | None, item: str) -> Any:
    if not entry:
        return None
    value = entry.get("value")
    if item == "pos_widgets":
        return int(value or 0)
    return "да" if value else "нет"


def export_rows(region_code: str) -> list[list[Any]]:
    """The region's registry as spreadsheet rows (``spreadsheet.COLUMNS`` order), sorted by name."""
    institutions = [
        repository.strip_keys(i) for i in repository.query_all(index="GSI1", partition=f"REGION#{region_code}#INST")
    ]
    pages: dict[str, list[dict[str, Any]]] = {}
    for item in repository.query_all(index="GSI1", partition=f"REGION#{region_code}#PAGE"):
        pages.setdefault(item["institution_id"], []).append(repository.strip_keys(item))
    ogrns = {i["id"]: i["ogrn"] for i in institutions}
    missing = {i["parent_id"] for i in institutions if i.get("parent_id") and i["parent_id"] not in ogrns}
    for item in repository.batch_get(repository.institution_key(m) for m in missing).values():
        ogrns[item["id"]] = item["ogrn"]
    rows = []
    for institution in institutions:
        head = [
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
            "; ".join(display(spreadsheet.SPHERES, s) for s in institution["spheres"]),
            ogrns.get(institution.get("parent_id") or ""),
            institution.get("website"),
            display(spreadsheet.STATUSES, institution["status"]),
            institution.get("no_page_reason"),
        ]
        own = sorted(pages.get(institution["id"], []), key=lambda p: (p["created_at"], p["id"]))
        if not own:
            rows.append(head)
        for page in own:
            checklist = page.get("checklist") or {}
            rows.append(
                [
                    *head,
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
            )
    return rows


def export_registry(*, principal: Principal, region: str, fmt: str) -> tuple[bytes, str, str]:
    """The region's registry as a file: ``(content, media type, file name)``."""
    region_code = service.region_code_of(region)
    service.ensure_regional_reader(principal)
    principal.readable_region(region_code)
    rows = export_rows(region_code)
    if fmt == "csv":
        return spreadsheet.write_csv(rows), "text/csv; charset=utf-8", f"registry-{region_code}.csv"
    return spreadsheet.write_xlsx(rows), spreadsheet.XLSX_MEDIA_TYPE, f"registry-{region_code}.xlsx"
