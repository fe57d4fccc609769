"""Registry use cases: institutions, pages, callback settings, coverage, region settings.

Access matrix (out-of-scope reads answer 404, out-of-scope or forbidden writes 403):

=================  ==========================  ==========================  ================================
role               read                        institutions: create/edit   pages: create/edit/callback
=================  ==========================  ==========================  ================================
federal_admin      everything                  everywhere                  everywhere
regional_admin     own region                  own region (+ import)       own region
operator           own region                  no (read-only registry)     no
institution_admin  own institution + pages     no                          own institution's pages
portal             own region                  no (read-only client)       no
=================  ==========================  ==========================  ================================

Export and coverage are regional reads: institution admins get 403 for them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from services.registry import publishing, repository
from services.registry.compliance import BUCKETS, CHECKLIST_ITEMS, compliance_pct
from services.registry.models import (
    PLATFORMS,
    SPHERES,
    CallbackSettings,
    Checklist,
    CoverageReport,
    CoverageStats,
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
    Listing,
    PageCreate,
    PageRead,
    PageUpdate,
    RegionCoverage,
    RegionRead,
    RegionSettings,
)
from services.registry.repository import Unit
from services.registry.validation import platform_of, url_key, vk_group_id_of
from shared.auth import Principal, Role
from shared.aws import secrets
from shared.config import get_settings
from shared.dynamo import decode_cursor, deserialize, encode_cursor, serialize
from shared.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from shared.events import Event, InstitutionUpserted, PageArchived, PageUpserted, make_event
from shared.logs import get_logger
from shared.regions import REGIONS, UnknownRegionError, get_region, normalize_region_code
from shared.vk_secret import hash_secret, new_salt

PRODUCER = "registry"
PAGES_PER_UNIT = 15
logger = get_logger("registry")

INSTITUTION_FIELDS = (
    "name",
    "short_name",
    "inn",
    "ogrn",
    "kpp",
    "oktmo",
    "level",
    "kind",
    "spheres",
    "parent_id",
    "municipality",
    "website",
    "no_page_reason",
)
PAGE_FIELDS = ("platform", "group_id", "screen_name", "url", "category", "subscribers", "quality_marks")


def clean(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without ``None`` values (as DynamoDB stores it), so stored and new states compare equal."""
    return {key: value for key, value in record.items() if value is not None}


# ---------------------------------------------------------------- scope


def region_code_of(value: str) -> str:
    """A 2-digit region code, or 422 naming ``region``."""
    try:
        return normalize_region_code(value)
    except UnknownRegionError as error:
        raise InvalidInputError(str(error), field="region") from None


def ensure_institution_writer(principal: Principal, *, region_code: str) -> None:
    """403 unless the caller may create or change institutions of this region."""
    if principal.role not in (Role.FEDERAL_ADMIN, Role.REGIONAL_ADMIN):
        raise ForbiddenError(f"{principal.role.value} may not change institutions")
    principal.ensure_can_write(region_code=region_code)


def ensure_page_writer(principal: Principal, *, region_code: str, institution_id: str) -> None:
    """403 unless the caller may create or change pages of this institution."""
    if principal.role in (Role.OPERATOR, Role.PORTAL):
        raise ForbiddenError(f"{principal.role.value} has read-only access to the registry")
    principal.ensure_can_write(region_code=region_code, institution_id=institution_id)


def ensure_regional_reader(principal: Principal) -> None:
    """403 for roles that only see one institution."""
    if principal.role is Role.INSTITUTION_ADMIN:
        raise ForbiddenError("needs a regional role")


# ---------------------------------------------------------------- records and events


def institution_event(record: Mapping[str, Any]) -> Event:
    """``institution.upserted`` for the record's current state."""
    return make_event(
        PRODUCER,
        InstitutionUpserted(
            institution_id=record["id"],
            region_code=record["region_code"],
            name=record["name"],
            short_name=record.get("short_name"),
            kind=record["kind"],
            level=record["level"],
            spheres=tuple(record["spheres"]),
            status=record["status"],
            revision=record["revision"],
        ),
    )


def page_event(record: Mapping[str, Any]) -> Event:
    """``page.upserted`` (or ``page.archived``) for the record's current state."""
    if record["status"] == "archived":
        return make_event(
            PRODUCER,
            PageArchived(
                page_id=record["id"],
                institution_id=record["institution_id"],
                region_code=record["region_code"],
                platform=record["platform"],
                group_id=record.get("group_id"),
                revision=record["revision"],
            ),
        )
    return make_event(
        PRODUCER,
        PageUpserted(
            page_id=record["id"],
            institution_id=record["institution_id"],
            region_code=record["region_code"],
            platform=record["platform"],
            group_id=record.get("group_id"),
            screen_name=record.get("screen_name"),
            url=record["url"],
            category=record["category"],
            status=record["status"],
            subscribers=record.get("subscribers"),
            secret_salt=record.get("secret_salt"),
            secret_hash=record.get("secret_hash"),
            confirmation_code=record.get("confirmation_code"),
            has_access_token=bool(record.get("has_access_token")),
            revision=record["revision"],
        ),
    )


def with_page_change(
    institution: Mapping[str, Any], before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The institution with its ``page_stats`` moved from one page state to another (same revision)."""
    stats = Counter({key: int(value) for key, value in (institution.get("page_stats") or {}).items()})
    stats.update(repository.page_contribution(after))
    stats.subtract(repository.page_contribution(before))
    return {**institution, "page_stats": {key: value for key, value in sorted(stats.items()) if value}}


def bump(record: Mapping[str, Any], *, at: str) -> dict[str, Any]:
    """The record with the next revision and ``updated_at``."""
    return {**record, "revision": int(record["revision"]) + 1, "updated_at": at}


def merge_checklist(
    stored: Mapping[str, Any], update: Mapping[str, Any], *, checked_at: str, only_changed: bool
) -> dict[str, Any]:
    """The stored checklist with the given item values; ``only_changed`` keeps ``checked_at`` of equal values."""
    result = {key: dict(value) for key, value in stored.items()}
    for item in CHECKLIST_ITEMS:
        value = update.get(item)
        if value is None:
            continue
        if only_changed and item in result and result[item].get("value") == value:
            continue
        result[item] = {"value": value, "checked_at": checked_at}
    return result


def finish_page(record: Mapping[str, Any]) -> dict[str, Any]:
    """The page record with derived attributes (url key, compliance, gov mark flag) recomputed."""
    checklist = record.get("checklist") or {}
    return clean(
        {
            **record,
            "url_key": url_key(record["url"]),
            "compliance_pct": compliance_pct(checklist),
            "gov_mark": bool((checklist.get("gov_mark") or {}).get("value")),
        }
    )


def check_page_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """Cross-field rules of a page (422 naming the field); fills a VK group id from a ``club123`` link."""
    result = dict(record)
    linked = platform_of(result["url"])
    if linked is not None and linked != result["platform"]:
        raise InvalidInputError(f"links to a {linked} page, not {result['platform']}", field="url")
    if result["platform"] == "vk" and result.get("group_id") is None:
        result["group_id"] = vk_group_id_of(result["url"])
    if result["platform"] != "vk" and result.get("group_id") is not None:
        raise InvalidInputError("only VK pages have a community id", field="group_id")
    return result


def institution_read(record: Mapping[str, Any]) -> InstitutionRead:
    """The API view of a stored institution."""
    fields = {name: record.get(name) for name in INSTITUTION_FIELDS}
    return InstitutionRead(
        **fields,
        id=record["id"],
        region_code=record["region_code"],
        status=record["status"],
        page_count=int((record.get("page_stats") or {}).get("pages", 0)),
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        revision=record["revision"],
    )


def page_read(record: Mapping[str, Any]) -> PageRead:
    """The API view of a stored page: callback secrets, their hash and the confirmation code stay out."""
    fields = {name: record.get(name) for name in PAGE_FIELDS}
    fields["quality_marks"] = record.get("quality_marks") or []
    return PageRead(
        **fields,
        id=record["id"],
        institution_id=record["institution_id"],
        region_code=record["region_code"],
        status=record["status"],
        checklist=Checklist.model_validate(record.get("checklist") or {}),
        compliance_pct=int(record.get("compliance_pct") or 0),
        callback_configured=bool(record.get("secret_hash") and record.get("confirmation_code")),
        has_access_token=bool(record.get("has_access_token")),
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        revision=record["revision"],
    )


def _commit(units: list[Unit]) -> None:
    entries, failures = repository.commit(units)
    publishing.dispatch(entries)
    if failures:
        raise ConflictError("changed concurrently or a duplicate key, retry")


# ---------------------------------------------------------------- regions


def list_regions() -> list[RegionRead]:
    """The 89 federal subjects."""
    return [RegionRead(code=region.code, name=region.name, timezone=region.timezone) for region in REGIONS]


def get_region_settings(*, principal: Principal, region_code: str) -> RegionSettings:
    """A region's posting norms (defaults unless set)."""
    code = region_code_of(region_code)
    principal.readable_region(code)
    item = repository.get_item(repository.region_settings_key(code), consistent=False)
    return RegionSettings.model_validate({"posting_norms": item["posting_norms"]} if item else {})


def put_region_settings(*, principal: Principal, region_code: str, data: RegionSettings) -> RegionSettings:
    """Replace a region's posting norms."""
    code = region_code_of(region_code)
    ensure_institution_writer(principal, region_code=code)
    norms = {**RegionSettings().posting_norms, **data.posting_norms}
    repository.put_item({**repository.region_settings_key(code), "entity": "region_settings", "posting_norms": norms})
    return RegionSettings(posting_norms=norms)


# ---------------------------------------------------------------- institutions


def load_institution(institution_id: str) -> dict[str, Any]:
    """The stored institution record, or 404."""
    item = repository.get_item(repository.institution_key(institution_id))
    if item is None:
        raise NotFoundError("institution not found", field="institution_id")
    return repository.strip_keys(item)


def _check_parent(parent_id: str | None, *, institution_id: str | None = None) -> None:
    if parent_id is None:
        return
    if parent_id == institution_id:
        raise InvalidInputError("an institution cannot be its own founder", field="parent_id")
    if repository.get_item(repository.institution_key(parent_id), consistent=False) is None:
        raise InvalidInputError("no such institution", field="parent_id")


def _ogrn_conflict(ogrn: str, *, institution_id: str) -> None:
    guard = repository.get_item(repository.guard_key("OGRN", ogrn))
    if guard and guard["owner_id"] != institution_id:
        raise ConflictError(f"already registered (institution {guard['owner_id']})", field="ogrn")


def create_institution(*, principal: Principal, data: InstitutionCreate) -> InstitutionRead:
    """Register an institution (409 if its OGRN is already registered)."""
    ensure_institution_writer(principal, region_code=data.region_code)
    _check_parent(data.parent_id)
    now = repository.now_iso()
    record = clean(
        {
            **data.model_dump(),
            "id": repository.new_id(),
            "status": "active",
            "page_stats": {},
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
    )
    _ogrn_conflict(record["ogrn"], institution_id=record["id"])
    unit = Unit(institution_before=None, institution_after=record, events=[institution_event(record)])
    entries, failures = repository.commit([unit])
    publishing.dispatch(entries)
    if failures:
        _ogrn_conflict(record["ogrn"], institution_id=record["id"])
        raise ConflictError("changed concurrently, retry")
    logger.info("institution created", extra={"institution_id": record["id"], "region_code": record["region_code"]})
    return institution_read(record)


def get_institution(*, principal: Principal, institution_id: str) -> InstitutionRead:
    """One institution in the caller's scope."""
    record = load_institution(institution_id)
    principal.ensure_can_read(region_code=record["region_code"], institution_id=record["id"])
    return institution_read(record)


def update_institution(*, principal: Principal, institution_id: str, data: InstitutionUpdate) -> InstitutionRead:
    """Change an institution; archiving it archives its active pages too."""
    before = load_institution(institution_id)
    ensure_institution_writer(principal, region_code=before["region_code"])
    changes = data.model_dump(exclude_unset=True)
    if "parent_id" in changes:
        _check_parent(changes["parent_id"], institution_id=institution_id)
    after = clean({**before, **changes})
    if after == before:
        return institution_read(before)
    if after["ogrn"] != before["ogrn"]:
        _ogrn_conflict(after["ogrn"], institution_id=institution_id)
    now = repository.now_iso()
    units: list[Unit] = []
    current = before
    if before["status"] == "active" and after["status"] == "archived":
        pages = [
            repository.strip_keys(item)
            for item in repository.query_all(index="GSI2", partition=f"PAGES#{institution_id}", sort_prefix="active#")
        ]
        for start in range(0, len(pages), PAGES_PER_UNIT):
            next_state = bump(current, at=now)
            unit = Unit(institution_before=current, institution_after=next_state)
            for page in pages[start : start + PAGES_PER_UNIT]:
                archived = bump({**page, "status": "archived"}, at=now)
                next_state = with_page_change(next_state, page, archived)
                unit.pages.append((page, archived))
                unit.events.append(page_event(archived))
            unit.institution_after = next_state
            units.append(unit)
            current = next_state
    final = bump(clean({**after, "page_stats": current["page_stats"], "revision": current["revision"]}), at=now)
    units.append(Unit(institution_before=current, institution_after=final, events=[institution_event(final)]))
    _commit(units)
    return institution_read(final)


def _institution_filters(
    *,
    kind: str | None,
    sphere: str | None,
    level: str | None,
    has_pages: bool | None,
    name_prefix: str | None,
    parent_id: str | None,
    status: str | None,
) -> list[tuple[str, str, Any]]:
    filters: list[tuple[str, str, Any]] = []
    if kind:
        filters.append(("kind", "=", kind))
    if sphere:
        filters.append(("spheres", "contains", sphere))
    if level:
        filters.append(("level", "=", level))
    if parent_id:
        filters.append(("parent_id", "=", parent_id))
    if has_pages is not None:
        filters.append(("page_count", ">" if has_pages else "=", 0))
    if name_prefix and not status:
        filters.append(("name_key", "begins_with", repository.name_key(name_prefix)))
    return filters


def _matches(record: Mapping[str, Any], filters: list[tuple[str, str, Any]]) -> bool:
    for attribute, operator, value in filters:
        actual = record.get(attribute)
        if operator == "=" and actual != value:
            return False
        if operator == "contains" and value not in (actual or []):
            return False
        if operator == "begins_with" and not str(actual or "").startswith(value):
            return False
        if operator == ">" and not (actual or 0) > value:
            return False
        if operator == "<" and not (actual or 0) < value:
            return False
    return True


Fetch = Callable[[str, dict[str, Any] | None, int], tuple[list[dict[str, Any]], dict[str, Any] | None]]


def _across_regions(
    *, regions: list[str], cursor: str | None, limit: int, fetch: Fetch
) -> tuple[list[dict[str, Any]], str | None]:
    """Items of several region partitions in code order, one opaque cursor for all of them."""
    start_region, start_key = regions[0], None
    decoded = decode_cursor(cursor)
    if decoded:
        position = deserialize(decoded)
        start_region = str(position.pop("r", ""))
        start_key = position or None
        if start_region not in regions:
            raise InvalidInputError("malformed cursor", field="cursor")
    items: list[dict[str, Any]] = []
    index = regions.index(start_region)
    for offset, region_code in enumerate(regions[index:], start=index):
        found, last_key = fetch(region_code, start_key if region_code == start_region else None, limit - len(items))
        items.extend(found)
        if len(items) >= limit:
            if last_key:
                return items, encode_cursor(serialize({"r": region_code, **last_key}))
            if offset + 1 < len(regions):
                return items, encode_cursor(serialize({"r": regions[offset + 1]}))
            return items, None
    return items, None


def list_institutions(
    *,
    principal: Principal,
    region: str | None = None,
    kind: str | None = None,
    sphere: str | None = None,
    level: str | None = None,
    status: str | None = None,
    has_pages: bool | None = None,
    name_prefix: str | None = None,
    parent_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Listing[InstitutionRead]:
    """Institutions in the caller's scope, sorted by name within a region (region code order across regions)."""
    requested = region_code_of(region) if region else None
    scope = principal.readable_region(requested)
    filters = _institution_filters(
        kind=kind,
        sphere=sphere,
        level=level,
        has_pages=has_pages,
        name_prefix=name_prefix,
        parent_id=parent_id,
        status=status,
    )
    if principal.role is Role.INSTITUTION_ADMIN:
        record = repository.get_item(repository.institution_key(principal.institution or ""))
        records = [record] if record and record["region_code"] == scope else []
        status_filter = [("status", "=", status)] if status else []
        prefix = [("name_key", "begins_with", repository.name_key(name_prefix))] if name_prefix else []
        records = [r for r in records if _matches(r, filters + status_filter + prefix)]
        return Listing(items=[institution_read(repository.strip_keys(r)) for r in records])
    sort_prefix = None
    if status:
        sort_prefix = f"{status}#" + (repository.name_key(name_prefix) if name_prefix else "")

    def fetch(region_code: str, start: dict[str, Any] | None, count: int) -> Any:
        return repository.query_page(
            index="GSI1",
            partition=f"REGION#{region_code}#INST",
            sort_prefix=sort_prefix,
            filters=filters,
            limit=count,
            start_key=start,
        )

    regions = [scope] if scope else [r.code for r in REGIONS]
    items, next_cursor = _across_regions(regions=regions, cursor=cursor, limit=limit, fetch=fetch)
    return Listing(items=[institution_read(repository.strip_keys(i)) for i in items], next_cursor=next_cursor)


# ---------------------------------------------------------------- pages


def load_page(page_id: str) -> dict[str, Any]:
    """The stored page record, or 404."""
    item = repository.get_item(repository.page_key(page_id))
    if item is None:
        raise NotFoundError("page not found", field="page_id")
    return repository.strip_keys(item)


def _page_conflicts(record: Mapping[str, Any]) -> None:
    """409 naming the field whose guard another page holds."""
    group_id = record.get("group_id")
    if group_id is not None:
        guard = repository.get_item(repository.guard_key("VKGROUP", group_id))
        if guard and guard["owner_id"] != record["id"]:
            raise ConflictError(
                f"community {group_id} is already registered (page {guard['owner_id']})", field="group_id"
            )
    guard = repository.get_item(repository.guard_key("PAGEURL", record["url_key"]))
    if guard and guard["owner_id"] != record["id"]:
        raise ConflictError(f"already registered (page {guard['owner_id']})", field="url")


def _store_access_token(page_id: str, token: str) -> None:
    """Put a community access token into the secret store (``{stack}/vk/{page_id}``)."""
    client = secrets()
    name = f"{get_settings().stack_name}/vk/{page_id}"
    try:
        client.put_secret_value(SecretId=name, SecretString=token)
    except client.exceptions.ResourceNotFoundException:
        client.create_secret(Name=name, SecretString=token, Description="VK community access token")


def _apply_callback(record: dict[str, Any], callback: CallbackSettings) -> dict[str, Any]:
    if record["platform"] != "vk":
        raise InvalidInputError("only VK pages have callback settings", field="callback")
    if record.get("group_id") is None:
        raise InvalidInputError("a VK community id is required for callback settings", field="group_id")
    salt = new_salt()
    result = {
        **record,
        "secret_salt": salt,
        "secret_hash": hash_secret(callback.secret.get_secret_value(), salt),
        "confirmation_code": callback.confirmation_code,
    }
    if callback.access_token is not None:
        _store_access_token(record["id"], callback.access_token.get_secret_value())
        result["has_access_token"] = True
    return result


def _commit_page(institution: dict[str, Any], before: dict[str, Any] | None, after: dict[str, Any]) -> None:
    institution_after = with_page_change(institution, before, after)
    if institution_after != institution:
        institution_after = bump(institution_after, at=after["updated_at"])
    unit = Unit(
        institution_before=institution,
        institution_after=institution_after,
        pages=[(before, after)],
        events=[page_event(after)],
    )
    entries, failures = repository.commit([unit])
    publishing.dispatch(entries)
    if failures:
        _page_conflicts(after)
        raise ConflictError("changed concurrently, retry")


def create_page(*, principal: Principal, institution_id: str, data: PageCreate) -> PageRead:
    """Register a page of an institution (409 if its link or VK community is already registered)."""
    institution = load_institution(institution_id)
    ensure_page_writer(principal, region_code=institution["region_code"], institution_id=institution_id)
    if institution["status"] != "active":
        raise ConflictError("the institution is archived", field="institution_id")
    now = repository.now_iso()
    checklist = data.checklist.model_dump(exclude_none=True) if data.checklist else {}
    checked_at = checklist.pop("checked_at", None)
    record: dict[str, Any] = {
        **data.model_dump(include=set(PAGE_FIELDS)),
        "id": repository.new_id(),
        "institution_id": institution_id,
        "region_code": institution["region_code"],
        "status": "active",
        "checklist": merge_checklist({}, checklist, checked_at=_iso(checked_at) or now, only_changed=False),
        "has_access_token": False,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    record = finish_page(check_page_fields(record))
    _page_conflicts(record)
    if data.callback:
        record = _apply_callback(record, data.callback)
    _commit_page(institution, None, record)
    logger.info("page created", extra={"page_id": record["id"], "institution_id": institution_id})
    return page_read(record)


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def get_page(*, principal: Principal, page_id: str) -> PageRead:
    """One page in the caller's scope."""
    record = load_page(page_id)
    principal.ensure_can_read(region_code=record["region_code"], institution_id=record["institution_id"])
    return page_read(record)


def update_page(*, principal: Principal, page_id: str, data: PageUpdate) -> PageRead:
    """Change a page (checklist items merge; ``status: archived`` archives it)."""
    before = load_page(page_id)
    ensure_page_writer(principal, region_code=before["region_code"], institution_id=before["institution_id"])
    changes = data.model_dump(exclude_unset=True, exclude={"checklist"})
    now = repository.now_iso()
    after = {**before, **changes}
    if "url" in changes and "group_id" not in changes and before.get("group_id") == vk_group_id_of(before["url"]):
        after.pop("group_id", None)
    if data.checklist:
        update = data.checklist.model_dump(exclude_none=True)
        checked_at = _iso(update.pop("checked_at", None)) or now
        stored = before.get("checklist") or {}
        after["checklist"] = merge_checklist(stored, update, checked_at=checked_at, only_changed=False)
    after = finish_page(check_page_fields(clean(after)))
    if after == before:
        return page_read(before)
    institution = load_institution(before["institution_id"])
    if after["status"] == "active" and institution["status"] != "active":
        raise ConflictError("the institution is archived", field="status")
    after = bump(after, at=now)
    _page_conflicts(after)
    _commit_page(institution, before, after)
    return page_read(after)


def set_callback(*, principal: Principal, page_id: str, data: CallbackSettings) -> PageRead:
    """Rotate a VK page's confirmation code, secret and (if given) access token."""
    before = load_page(page_id)
    ensure_page_writer(principal, region_code=before["region_code"], institution_id=before["institution_id"])
    after = bump(_apply_callback(dict(before), data), at=repository.now_iso())
    _commit_page(load_institution(before["institution_id"]), before, after)
    logger.info("callback settings rotated", extra={"page_id": page_id})
    return page_read(after)


def list_pages(
    *,
    principal: Principal,
    region: str | None = None,
    institution_id: str | None = None,
    platform: str | None = None,
    category: str | None = None,
    status: str | None = None,
    compliance_below: int | None = None,
    gov_mark: bool | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Listing[PageRead]:
    """Pages in the caller's scope (by region, or of one institution)."""
    requested = region_code_of(region) if region else None
    scope = principal.readable_region(requested)
    if principal.role is Role.INSTITUTION_ADMIN:
        institution_id = institution_id or principal.institution
    filters: list[tuple[str, str, Any]] = []
    if compliance_below is not None:
        filters.append(("compliance_pct", "<", compliance_below))
    if gov_mark is not None:
        filters.append(("gov_mark", "=", gov_mark))
    if institution_id:
        institution = load_institution(institution_id)
        principal.ensure_can_read(region_code=institution["region_code"], institution_id=institution_id)
        if scope and institution["region_code"] != scope:
            return Listing(items=[])
        if category:
            filters.append(("category", "=", category))
        prefix = f"{status}#{platform}#" if status and platform else (f"{status}#" if status else None)
        if platform and not status:
            filters.append(("platform", "=", platform))
        items, last = repository.query_page(
            index="GSI2",
            partition=f"PAGES#{institution_id}",
            sort_prefix=prefix,
            filters=filters,
            limit=limit,
            start_key=_plain_cursor(cursor),
        )
        return Listing(items=[page_read(repository.strip_keys(i)) for i in items], next_cursor=_cursor_of(last))
    key_parts: list[str] = []
    for value in (status, platform, category):
        if not value:
            break
        key_parts.append(value)
    prefix = "#".join(key_parts) + "#" if key_parts else None
    for position, (attribute, value) in enumerate(
        zip(("status", "platform", "category"), (status, platform, category), strict=True)
    ):
        if value and position >= len(key_parts):
            filters.append((attribute, "=", value))

    def fetch(region_code: str, start: dict[str, Any] | None, count: int) -> Any:
        return repository.query_page(
            index="GSI1",
            partition=f"REGION#{region_code}#PAGE",
            sort_prefix=prefix,
            filters=filters,
            limit=count,
            start_key=start,
        )

    regions = [scope] if scope else [r.code for r in REGIONS]
    items, next_cursor = _across_regions(regions=regions, cursor=cursor, limit=limit, fetch=fetch)
    return Listing(items=[page_read(repository.strip_keys(i)) for i in items], next_cursor=next_cursor)


def _plain_cursor(cursor: str | None) -> dict[str, Any] | None:
    decoded = decode_cursor(cursor)
    return deserialize(decoded) if decoded else None


def _cursor_of(last_key: dict[str, Any] | None) -> str | None:
    return encode_cursor(serialize(last_key)) if last_key else None


# ---------------------------------------------------------------- coverage


def _counts(item: Mapping[str, Any]) -> Counter[str]:
    return Counter({key: int(value) for key, value in item.items() if key in repository.COUNTER_ATTRIBUTES})


def _stats(counters: Mapping[str, Any]) -> CoverageStats:
    value = _counts(counters)
    denominator = value["institutions"] - value["exempt"]
    return CoverageStats(
        institutions=value["institutions"],
        institutions_with_pages=value["with_pages"],
        exempt=value["exempt"],
        coverage_pct=round(100 * value["with_pages"] / denominator, 1) if denominator > 0 else 0.0,
        pages=value["pages"],
        pages_by_platform={platform: value[f"pages_{platform}"] for platform in PLATFORMS},
        gov_mark_pages=value["gov_mark"],
        gov_mark_share=round(100 * value["gov_mark"] / value["pages"], 1) if value["pages"] else 0.0,
        compliance={name: value[f"c_{name}"] for name, _ in BUCKETS},
    )


def coverage(*, principal: Principal, region: str | None = None) -> CoverageReport:
    """Coverage per region and sphere, read from counters kept on write (BatchGetItem, no scans)."""
    ensure_regional_reader(principal)
    requested = region_code_of(region) if region else None
    scope = principal.readable_region(requested)
    codes = [scope] if scope else [r.code for r in REGIONS]
    sort_keys = ["ALL", *(f"{repository.SPHERE_PREFIX}{sphere}" for sphere in SPHERES)]
    found = repository.batch_get(repository.counter_key(code, sk) for code in codes for sk in sort_keys)
    regions = []
    national: Counter[str] = Counter()
    national_spheres: dict[str, Counter[str]] = {sphere: Counter() for sphere in SPHERES}
    for code in codes:
        total = found.get((f"COVERAGE#{code}", "ALL"), {})
        national.update(_counts(total))
        spheres = {}
        for sphere in SPHERES:
            counters = found.get((f"COVERAGE#{code}", f"{repository.SPHERE_PREFIX}{sphere}"), {})
            national_spheres[sphere].update(_counts(counters))
            spheres[sphere] = _stats(counters)
        name = get_region(code).name
        regions.append(RegionCoverage(region_code=code, region_name=name, total=_stats(total), spheres=spheres))
    if scope:
        return CoverageReport(regions=regions)
    return CoverageReport(
        regions=regions,
        total=_stats(national),
        spheres={sphere: _stats(counters) for sphere, counters in national_spheres.items()},
    )
