"""Bulk import of a region's registry: upsert institutions by OGRN and pages by link.

Import reads the whole file, validates every row (a broken row is reported as ``{row, column, message}`` and skipped,
never aborting the others, see ``import_rows``), looks existing institutions and pages up by their uniqueness guards
with BatchGetItem, and writes only what changed, with counters and outbox records. So re-importing a file, or
importing an export, changes nothing and reports every row as ``unchanged``. ``dry_run`` does all of it except the
writes. Archiving an institution through import does not archive its pages (the API does).

A new institution needs name, INN, OGRN, type and sphere; the level defaults to ``municipal`` when a municipality is
given and to ``regional`` otherwise; a founder (``parent_ogrn``) must be in the same region. A new page gets its
platform from its link (or its link column) and the category ``card`` unless the row says otherwise.

The report (and the dry run) lists the first ``REPORT_LIMIT`` problems and the first ``REPORT_LIMIT`` institutions
and pages created or changed, each change as ``column: old → new``, with totals of both. A conflict names another
institution's page only if the importer may read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from services.registry import publishing, spreadsheet, validation
from services.registry.access import ensure_institution_writer, page_holder, region_code_of
from services.registry.counters import with_page_change
from services.registry.exporting import Cells, institution_cells, page_cells
from services.registry.import_rows import Row, parse_row
from services.registry.models import REPORT_LIMIT, ImportChange, ImportProblem, ImportReport
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
from services.registry.spreadsheet import Problem, shown
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
Target = Literal["institution", "page"]


def _cell(value: Any) -> str:
    return "—" if value is None else shown(str(value))


def _differences(before: Cells, after: Cells, labels: Mapping[str, str]) -> list[str]:
    """``column: old → new`` for each column whose value differs."""
    changed = (column for column in spreadsheet.COLUMNS if before.get(column.field) != after.get(column.field))
    return [
        f"{labels.get(c.field, c.header)}: {_cell(before.get(c.field))} → {_cell(after.get(c.field))}" for c in changed
    ]


class _Importer:
    """One import run: rows -> plan (units) -> report."""

    def __init__(
        self, *, repository: RegistryRepository, principal: Principal, region_code: str, labels: Mapping[str, str]
    ) -> None:
        self.repository = repository
        self.principal = principal
        self.region_code = region_code
        self.labels = labels
        self.now = now_iso()
        self.problems: list[Problem] = []
        self.outcome: dict[int, str] = {}
        self.page_ids: dict[str, str] = {}
        self.ogrns: dict[str, str] = {}  # institution id -> OGRN, of the file's institutions and founders

    def fail(self, row: Row, name: str, message: str) -> None:
        column = row.link_field if name == "url" else name
        self.problems.append(Problem(row.number, self.labels.get(column, column), message))
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
        stored = self.repository.get_institutions(ids.values())
        new_ids = _stable_ids(
            {g.ogrn for g in groups if g.ogrn not in ids}, kind="ogrn", existing=self.repository.get_institutions
        )
        self.ogrns = {institution_id: ogrn for ogrn, institution_id in (ids | new_ids).items()}
        in_region = {ogrn: i for ogrn, i in ids.items() if i in stored and stored[i]["region_code"] == self.region_code}
        founders = in_region | new_ids  # a founder is of the same region
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
                parent_id = founders.get(head.parent_ogrn)
                if parent_id is None or head.parent_ogrn == group.ogrn:
                    message = f"no other institution with this OGRN in region {self.region_code} or the file"
                    for row in group.rows:
                        self.fail(row, "parent_ogrn", message)
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
                held_by = page_holder(principal=self.principal, page=before)
                self.fail(row, "url", f"registered for another institution ({held_by})")
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
        holders = self.repository.get_pages(set(owners.values()) - {after["id"] for _, _, _, after in candidates})
        seen: dict[int, int] = {}
        for group, row, before, after in candidates:
            group_id = after.get("group_id")
            if group_id is not None:
                owner = owners.get(group_id)
                if owner is not None and owner != after["id"]:
                    held_by = page_holder(principal=self.principal, page=holders.get(owner))
                    self.fail(row, "group_id", f"community {group_id} is already registered ({held_by})")
                    continue
                if group_id in seen:
                    self.fail(row, "group_id", f"the same community as row {seen[group_id]}")
                    continue
                seen[group_id] = row.number
            group.pages.append((row, before, after))
            change = "created" if before is None else ("unchanged" if after == before else "updated")
            previous = self.outcome.get(row.number, "unchanged")
            self.outcome[row.number] = max(previous, change, key=_RANKS.index)

    def applied(self, groups: list[_Group]) -> Iterator[tuple[_Group, InstitutionRecord]]:
        """The groups the import writes (resolved, with a row that did not fail), each with its institution after."""
        for group in groups:
            if group.after is not None and any(row.number in self.outcome for row in group.rows):
                yield group, group.after

    def changes(self, groups: list[_Group]) -> tuple[list[ImportChange], int]:
        """The first ``REPORT_LIMIT`` creations and changes by row (institution before page), and how many in all."""
        found: list[tuple[int, int, Callable[[], ImportChange]]] = []
        for group, institution in self.applied(groups):
            head = group.rows[0].number
            if group.before is None:
                found.append((head, 0, partial(ImportChange, row=head, target="institution", action="created")))
            elif institution != group.before:
                found.append((head, 0, partial(self.institution_change, head, group.before, institution)))
            for row, before, after in group.pages:
                if before is None:
                    found.append(
                        (row.number, 1, partial(ImportChange, row=row.number, target="page", action="created"))
                    )
                elif after != before:
                    cells = page_cells(before), page_cells(after)
                    found.append((row.number, 1, partial(self.updated, row.number, "page", *cells)))
        found.sort(key=lambda entry: entry[:2])
        return [make() for _, _, make in found[:REPORT_LIMIT]], len(found)

    def institution_change(self, row: int, before: InstitutionRecord, after: InstitutionRecord) -> ImportChange:
        parents = (before.get("parent_id"), after.get("parent_id"))
        missing = {parent for parent in parents if parent and parent not in self.ogrns}
        self.ogrns.update({i: record["ogrn"] for i, record in self.repository.get_institutions(missing).items()})
        cells = [
            institution_cells(record, parent_ogrn=self.ogrns.get(record.get("parent_id") or ""))
            for record in (before, after)
        ]
        return self.updated(row, "institution", *cells)

    def updated(self, row: int, target: Target, before: Cells, after: Cells) -> ImportChange:
        return ImportChange(row=row, target=target, action="updated", fields=_differences(before, after, self.labels))

    def units(self, groups: list[_Group]) -> list[Unit]:
        units: list[Unit] = []
        for group, institution in self.applied(groups):
            changed_pages = [(row, b, a) for row, b, a in group.pages if b != a]
            fields_changed = group.before is None or institution != group.before
            if not fields_changed and not changed_pages:
                continue
            current = group.before
            state = institution
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
    ensure_institution_writer(principal=principal, region_code=region_code, action="import a registry")
    table = spreadsheet.read_table(content, filename=filename)
    importer = _Importer(repository=repository, principal=principal, region_code=region_code, labels=table.labels)
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
    changes, changes_total = importer.changes(groups)
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
        errors=[ImportProblem(row=p.row, column=p.column, message=p.message) for p in problems[:REPORT_LIMIT]],
        errors_total=len(problems),
        changes=changes,
        changes_total=changes_total,
    )
