"""Bulk import of a region's registry: upsert institutions by OGRN and pages by link.

Import reads the whole file, validates every row (a broken row is reported as ``{row, column, message}`` and skipped,
never aborting the others, see ``import_rows``), looks existing institutions and pages up by their uniqueness guards
with BatchGetItem, and writes only what changed, with counters and outbox records. So re-importing a file, or
importing an export, changes nothing and reports every row as ``unchanged``. ``dry_run`` does all of it except the
writes. Archiving an institution through import does not archive its pages (the API does).

A new institution needs name, INN, OGRN, type and sphere; the level defaults to ``municipal`` when a municipality is
given and to ``regional`` otherwise. A new page gets its platform from its link and the category ``card`` unless
the row says otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.registry import publishing, spreadsheet, validation
from services.registry.access import ensure_institution_writer, region_code_of
from services.registry.counters import with_page_change
from services.registry.import_rows import Row, parse_row
from services.registry.models import ImportProblem, ImportReport
from services.registry.pages import check_page_fields, finish_page, merge_checklist
from services.registry.records import (
    InstitutionRecord,
    PageRecord,
    Unit,
    bump,
    institution_event,
    institution_record,
    new_id,
    now_iso,
    page_event,
)
from services.registry.repository import RegistryRepository
from services.registry.spreadsheet import Problem
from shared.auth import Principal
from shared.errors import InvalidInputError

PAGES_PER_UNIT = 4
UNITS_PER_COMMIT = 500
# Events of a large import are left in the outbox for the relay (within a minute): publishing tens of thousands
# of messages would not fit the API's 29 s timeout.
INLINE_PUBLISH_EVENTS = 1000
_ID_NAMESPACE = uuid.UUID("6f1c3c5e-7d6b-4f1e-9a55-2f7c1d0b9e21")
_RANKS = ("unchanged", "updated", "created")


def _stable_ids(
    values: set[str], *, kind: str, existing: Callable[[Iterable[str]], Mapping[str, object]]
) -> dict[str, str]:
    """Ids derived from OGRN / page link (a retried import makes the same items); random if one is taken."""
    ids = {value: uuid.uuid5(_ID_NAMESPACE, f"{kind}:{value}").hex for value in values}
    taken = existing(ids.values())
    return {value: new_id() if stable in taken else stable for value, stable in ids.items()}


@dataclass
class _Group:
    """Rows of one institution (same OGRN)."""

    ogrn: str
    rows: list[Row] = field(default_factory=list)
    before: InstitutionRecord | None = None
    after: InstitutionRecord | None = None
    pages: list[tuple[Row, PageRecord | None, PageRecord]] = field(default_factory=list)


PageCandidate = tuple[_Group, Row, PageRecord | None, PageRecord]


class _Importer:
    """One import run: rows -> plan (units) -> report."""

    def __init__(self, *, repository: RegistryRepository, region_code: str, labels: Mapping[str, str]) -> None:
        self.repository = repository
        self.region_code = region_code
        self.labels = labels
        self.now = now_iso()
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
        ids = self.repository.ogrn_owners({g.ogrn for g in groups} | parent_ogrns)
        stored = self.repository.get_institutions(ids[g.ogrn] for g in groups if g.ogrn in ids)
        new_ids = _stable_ids(
            {g.ogrn for g in groups if g.ogrn not in ids}, kind="ogrn", existing=self.repository.get_institutions
        )
        for group in groups:
            head = group.rows[0]
            if group.ogrn in ids:
                group.before = stored.get(ids[group.ogrn])
                if group.before is None:
                    self.fail(head, "ogrn", "registered but its institution is missing, contact support")
                    group.rows = []
                    continue
                if group.before["region_code"] != self.region_code:
                    for row in group.rows:
                        self.fail(row, "ogrn", f"registered in region {group.before['region_code']}")
                    group.rows = []
                    continue
                fields: dict[str, Any] = {**group.before, **head.institution}
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
            group.after = institution_record(fields)
            self.outcome[head.number] = (
                "created" if group.before is None else ("unchanged" if group.after == group.before else "updated")
            )

    def resolve_pages(self, groups: list[_Group]) -> None:
        rows = [(g, row) for g in groups if g.after is not None for row in g.rows if row.page]
        url_keys = {validation.url_key(row.page["url"]) for _, row in rows if row.page}
        owners = self.repository.url_owners(url_keys)
        stored = self.repository.get_pages(owners.values())
        self.page_ids = _stable_ids(url_keys - owners.keys(), kind="url", existing=self.repository.get_pages)
        seen_urls: dict[str, int] = {}
        candidates: list[PageCandidate] = []
        for group, row in rows:
            assert row.page is not None and group.after is not None
            key = validation.url_key(row.page["url"])
            if key in seen_urls:
                self.fail(row, "url", f"the same page as row {seen_urls[key]}")
                continue
            seen_urls[key] = row.number
            before = stored.get(owners[key]) if key in owners else None
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

    def page_state(self, institution: InstitutionRecord, before: PageRecord | None, row: Row) -> PageRecord:
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
            base = dict(before)
        merged = {**base, **values}
        merged["checklist"] = merge_checklist(
            base.get("checklist") or {}, row.checklist, checked_at=self.now, only_changed=True
        )
        after = finish_page(check_page_fields(merged))
        if after["status"] == "active" and institution["status"] != "active":
            raise InvalidInputError("the institution is archived", field="page_status")
        return after if before is None or after == before else bump(after, at=self.now)

    def check_group_ids(self, candidates: list[PageCandidate]) -> None:
        wanted = {
            after["group_id"]
            for _, _, before, after in candidates
            if after.get("group_id") is not None and (before is None or before.get("group_id") != after["group_id"])
        }
        owners = self.repository.vk_group_owners(wanted)
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
            self.outcome[row.number] = max(previous, change, key=_RANKS.index)

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
                    after = with_page_change(after, before_page, after_page)
                if current is not None and after != current:
                    rebased = after.copy()
                    rebased["revision"] = current["revision"]
                    after = bump(rebased, at=self.now)
                unit = Unit(institution_before=current, institution_after=after, pages=[(b, a) for _, b, a in chunk])
                if index == 0 and fields_changed:
                    unit.events.append(institution_event(after))
                unit.events.extend(page_event(a) for _, _, a in chunk)
                units.append(unit)
                current = after
                state = after
        return units

    def apply(self, units: list[Unit]) -> None:
        outbox = []
        for start in range(0, len(units), UNITS_PER_COMMIT):
            outbox.extend(self.repository.write_bulk(units[start : start + UNITS_PER_COMMIT]))
        if sum(len(record["events"]) for record in outbox) <= INLINE_PUBLISH_EVENTS:
            publishing.dispatch(repository=self.repository, outbox=outbox)


def import_registry(
    *,
    repository: RegistryRepository,
    principal: Principal,
    region: str,
    content: bytes,
    filename: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Upsert a region's institutions and pages from an XLSX or CSV file; report per row."""
    region_code = region_code_of(region)
    ensure_institution_writer(principal=principal, region_code=region_code)
    table = spreadsheet.read_table(content, filename=filename)
    importer = _Importer(repository=repository, region_code=region_code, labels=table.labels)
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
