"""Institution use cases: register, read, change (archiving cascades to pages, restoring brings them back), list."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.registry.access import ensure_institution_writer, institution_holder, readable_scope, regions_in
from services.registry.counters import with_page_change
from services.registry.filters import InstitutionFilter
from services.registry.models import InstitutionCreate, InstitutionRead, InstitutionUpdate, Listing
from services.registry.publishing import commit_and_publish
from services.registry.records import (
    INSTITUTION_FIELDS,
    InstitutionRecord,
    PageRecord,
    Status,
    Unit,
    bump,
    institution_event,
    institution_record,
    new_id,
    now_iso,
    page_event,
)
from services.registry.repository import RegistryRepository
from shared.auth import Principal, Role
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.logs import get_logger

PAGES_PER_UNIT = 15  # pages archived with their institution in one transaction
logger = get_logger("registry")


def institution_read(record: InstitutionRecord) -> InstitutionRead:
    """The API view of a stored institution."""
    values: Mapping[str, Any] = record
    return InstitutionRead(
        **{name: values.get(name) for name in INSTITUTION_FIELDS},
        id=record["id"],
        region_code=record["region_code"],
        status=record["status"],
        page_count=int((record.get("page_stats") or {}).get("pages", 0)),
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        revision=record["revision"],
    )


def load_institution(*, repository: RegistryRepository, institution_id: str) -> InstitutionRecord:
    """The stored institution, or 404."""
    record = repository.get_institution(institution_id)
    if record is None:
        raise NotFoundError("institution not found", field="institution_id")
    return record


def _check_parent(
    repository: RegistryRepository, parent_id: str | None, *, region_code: str, institution_id: str | None = None
) -> None:
    """422 naming ``parent_id`` unless it is another institution of the same region (others are not told apart)."""
    if parent_id is None:
        return
    if parent_id == institution_id:
        raise InvalidInputError("an institution cannot be its own founder", field="parent_id")
    parent = repository.get_institution(parent_id, consistent=False)
    if parent is None or parent["region_code"] != region_code:
        raise InvalidInputError(f"no such institution in region {region_code}", field="parent_id")


def _check_ogrn_free(repository: RegistryRepository, principal: Principal, ogrn: str, *, institution_id: str) -> None:
    """409 naming ``ogrn`` (and its institution, if the caller may read it) if another institution has it."""
    owner_id = repository.ogrn_owner(ogrn)
    if owner_id and owner_id != institution_id:
        owner = repository.get_institution(owner_id, consistent=False)
        held_by = institution_holder(principal=principal, institution=owner)
        raise ConflictError(f"already registered ({held_by})", field="ogrn")


def create_institution(
    *, repository: RegistryRepository, principal: Principal, data: InstitutionCreate
) -> InstitutionRead:
    """Register an institution (409 if its OGRN is already registered)."""
    ensure_institution_writer(principal=principal, region_code=data.region_code)
    _check_parent(repository, data.parent_id, region_code=data.region_code)
    now = now_iso()
    record = institution_record(
        {
            **data.model_dump(),
            "id": new_id(),
            "status": "active",
            "page_stats": {},
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
    )
    _check_ogrn_free(repository, principal, record["ogrn"], institution_id=record["id"])
    unit = Unit(institution_before=None, institution_after=record, events=[institution_event(record)])
    if commit_and_publish(repository=repository, units=[unit]):
        _check_ogrn_free(repository, principal, record["ogrn"], institution_id=record["id"])
        raise ConflictError("changed concurrently, retry")
    logger.info("institution created", extra={"institution_id": record["id"], "region_code": record["region_code"]})
    return institution_read(record)


def get_institution(*, repository: RegistryRepository, principal: Principal, institution_id: str) -> InstitutionRead:
    """One institution in the caller's scope."""
    record = load_institution(repository=repository, institution_id=institution_id)
    principal.ensure_can_read(region_code=record["region_code"], institution_id=record["id"])
    return institution_read(record)


def _with_institution(page: PageRecord, status: Status) -> PageRecord:
    """A page archived with its institution (marked as such), or restored with it."""
    changed = page.copy()
    changed["status"] = status
    if status == "archived":
        changed["archived_with_institution"] = True
    else:
        changed.pop("archived_with_institution", None)
    return changed


def _cascade(
    institution: InstitutionRecord, pages: list[PageRecord], *, status: Status, at: str
) -> tuple[InstitutionRecord, list[Unit]]:
    """Units moving pages to ``status`` with their institution, ``PAGES_PER_UNIT`` a unit; the institution after."""
    current = institution
    units: list[Unit] = []
    for start in range(0, len(pages), PAGES_PER_UNIT):
        next_state = bump(current, at=at)
        unit = Unit(institution_before=current, institution_after=next_state)
        for page in pages[start : start + PAGES_PER_UNIT]:
            changed = bump(_with_institution(page, status), at=at)
            next_state = with_page_change(next_state, page, changed)
            unit.pages.append((page, changed))
            unit.events.append(page_event(changed))
        unit.institution_after = next_state
        units.append(unit)
        current = next_state
    return current, units


def update_institution(
    *, repository: RegistryRepository, principal: Principal, institution_id: str, data: InstitutionUpdate
) -> InstitutionRead:
    """Change an institution; archiving archives its active pages, restoring restores the pages archiving took."""
    before = load_institution(repository=repository, institution_id=institution_id)
    ensure_institution_writer(principal=principal, region_code=before["region_code"])
    changes = data.model_dump(exclude_unset=True)
    if "parent_id" in changes:
        _check_parent(
            repository, changes["parent_id"], region_code=before["region_code"], institution_id=institution_id
        )
    after = institution_record({**before, **changes})
    if after == before:
        return institution_read(before)
    if after["ogrn"] != before["ogrn"]:
        _check_ogrn_free(repository, principal, after["ogrn"], institution_id=institution_id)
    now = now_iso()
    current = before
    units: list[Unit] = []
    if after["status"] == "archived" and before["status"] == "active":
        current, units = _cascade(before, repository.active_pages_of(institution_id), status="archived", at=now)
    elif after["status"] == "active" and before["status"] == "archived":
        current, units = _cascade(before, repository.pages_archived_with(institution_id), status="active", at=now)
    final = bump(
        institution_record({**after, "page_stats": current["page_stats"], "revision": current["revision"]}), at=now
    )
    units.append(Unit(institution_before=current, institution_after=final, events=[institution_event(final)]))
    if commit_and_publish(repository=repository, units=units):
        raise ConflictError("changed concurrently or a duplicate key, retry")
    return institution_read(final)


def list_institutions(
    *,
    repository: RegistryRepository,
    principal: Principal,
    where: InstitutionFilter,
    region: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Listing[InstitutionRead]:
    """Institutions in the caller's scope, sorted by name within a region (region code order across regions).

    A name search lists by the matched word, then name; see ``repository`` for the order of other lists.
    """
    scope = readable_scope(principal=principal, region=region)
    if where.name and not where.words:
        raise InvalidInputError("search needs a word of two letters or more, or a number", field="name")
    if principal.role is Role.INSTITUTION_ADMIN:
        record = repository.get_institution(principal.institution or "")
        own = [record] if record and record["region_code"] == scope and where.matches(record) else []
        return Listing(items=[institution_read(institution) for institution in own])
    records, next_cursor = repository.list_institutions(
        region_codes=regions_in(scope), where=where, limit=limit, cursor=cursor
    )
    return Listing(items=[institution_read(record) for record in records], next_cursor=next_cursor)
