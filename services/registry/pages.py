"""Page use cases: register, read, change (checklist merges), rotate VK callback settings, list; page field rules."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.registry.access import ensure_page_writer, page_holder, readable_scope, regions_in
from services.registry.callbacks import AccessTokenStore, token_permissions, with_callback
from services.registry.compliance import CHECKLIST_ITEMS, compliance_pct
from services.registry.counters import page_change_unit
from services.registry.filters import PageFilter
from services.registry.institutions import load_institution
from services.registry.models import (
    CallbackSettings,
    Checklist,
    Listing,
    PageCreate,
    PageRead,
    PageUpdate,
    VkTokenUpdate,
)
from services.registry.publishing import commit_and_publish
from services.registry.records import (
    ChecklistEntry,
    InstitutionRecord,
    PageRecord,
    bump,
    new_id,
    now_iso,
    page_record,
)
from services.registry.repository import RegistryRepository
from services.registry.validation import platform_of, url_key, vk_group_id_of
from shared.auth import Principal, Role
from shared.errors import ConflictError, InvalidInputError, NotFoundError
from shared.logs import get_logger
from shared.vk_api import VkApi

PAGE_FIELDS = ("platform", "group_id", "screen_name", "url", "category", "subscribers", "quality_marks")
logger = get_logger("registry")


def page_read(record: PageRecord) -> PageRead:
    """The API view of a stored page: callback secrets, their hash and the confirmation code stay out."""
    values: Mapping[str, Any] = record
    fields = {name: values.get(name) for name in PAGE_FIELDS}
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
        token_permissions=record.get("token_permissions") or [],
        created_at=record["created_at"],
        updated_at=record["updated_at"],
        revision=record["revision"],
    )


def merge_checklist(
    stored: Mapping[str, ChecklistEntry], update: Mapping[str, Any], *, checked_at: str, only_changed: bool
) -> dict[str, ChecklistEntry]:
    """The stored checklist with the given item values; ``only_changed`` keeps ``checked_at`` of equal values."""
    result = {item: entry.copy() for item, entry in stored.items()}
    for item in CHECKLIST_ITEMS:
        value = update.get(item)
        if value is None:
            continue
        if only_changed and item in result and result[item].get("value") == value:
            continue
        result[item] = ChecklistEntry(value=value, checked_at=checked_at)
    return result


def check_page_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Cross-field rules of a page (422 naming the field); fills a VK group id from a ``club123`` link."""
    result = dict(values)
    linked = platform_of(result["url"])
    if linked is not None and linked != result["platform"]:
        raise InvalidInputError(f"links to a {linked} page, not {result['platform']}", field="url")
    if result["platform"] == "vk" and result.get("group_id") is None:
        result["group_id"] = vk_group_id_of(result["url"])
    if result["platform"] != "vk" and result.get("group_id") is not None:
        raise InvalidInputError("only VK pages have a community id", field="group_id")
    return result


def finish_page(values: Mapping[str, Any]) -> PageRecord:
    """The page record with derived attributes (url key, compliance, gov mark flag) recomputed."""
    checklist = values.get("checklist") or {}
    return page_record(
        {
            **values,
            "url_key": url_key(values["url"]),
            "compliance_pct": compliance_pct(checklist),
            "gov_mark": bool((checklist.get("gov_mark") or {}).get("value")),
        }
    )


def load_page(*, repository: RegistryRepository, page_id: str) -> PageRecord:
    """The stored page, or 404."""
    record = repository.get_page(page_id)
    if record is None:
        raise NotFoundError("page not found", field="page_id")
    return record


def _check_page_free(repository: RegistryRepository, principal: Principal, record: PageRecord) -> None:
    """409 naming the field whose guard another page holds (and that page, if the caller may read it)."""
    group_id = record.get("group_id")
    if group_id is not None:
        owner = repository.vk_group_owner(group_id)
        if owner and owner != record["id"]:
            held_by = page_holder(principal=principal, page=repository.get_page(owner))
            raise ConflictError(f"community {group_id} is already registered ({held_by})", field="group_id")
    owner = repository.url_owner(record["url_key"])
    if owner and owner != record["id"]:
        held_by = page_holder(principal=principal, page=repository.get_page(owner))
        raise ConflictError(f"already registered ({held_by})", field="url")


def _page_to_change(repository: RegistryRepository, principal: Principal, page_id: str) -> PageRecord:
    """The stored page, once the caller is known to be allowed to change it (404 unknown, 403 not allowed)."""
    page = load_page(repository=repository, page_id=page_id)
    ensure_page_writer(principal=principal, region_code=page["region_code"], institution_id=page["institution_id"])
    return page


def _institution_of(repository: RegistryRepository, page: PageRecord) -> InstitutionRecord:
    return load_institution(repository=repository, institution_id=page["institution_id"])


def _commit_page(
    repository: RegistryRepository,
    principal: Principal,
    institution: InstitutionRecord,
    before: PageRecord | None,
    after: PageRecord,
) -> None:
    if commit_and_publish(repository=repository, units=[page_change_unit(institution, before, after)]):
        _check_page_free(repository, principal, after)
        raise ConflictError("changed concurrently, retry")


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def create_page(
    *,
    repository: RegistryRepository,
    principal: Principal,
    institution_id: str,
    data: PageCreate,
) -> PageRead:
    """Register a page of an institution (409 if its link or VK community is already registered)."""
    institution = load_institution(repository=repository, institution_id=institution_id)
    ensure_page_writer(principal=principal, region_code=institution["region_code"], institution_id=institution_id)
    if institution["status"] != "active":
        raise ConflictError("the institution is archived", field="institution_id")
    now = now_iso()
    checklist = data.checklist.model_dump(exclude_none=True) if data.checklist else {}
    checked_at = _iso(checklist.pop("checked_at", None)) or now
    values = {
        **data.model_dump(include=set(PAGE_FIELDS)),
        "id": new_id(),
        "institution_id": institution_id,
        "region_code": institution["region_code"],
        "status": "active",
        "checklist": merge_checklist({}, checklist, checked_at=checked_at, only_changed=False),
        "has_access_token": False,
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    record = finish_page(check_page_fields(values))
    _check_page_free(repository, principal, record)
    if data.callback:
        record = with_callback(record=record, settings=data.callback)
    _commit_page(repository, principal, institution, None, record)
    logger.info("page created", extra={"page_id": record["id"], "institution_id": institution_id})
    return page_read(record)


def get_page(*, repository: RegistryRepository, principal: Principal, page_id: str) -> PageRead:
    """One page in the caller's scope."""
    record = load_page(repository=repository, page_id=page_id)
    principal.ensure_can_read(region_code=record["region_code"], institution_id=record["institution_id"])
    return page_read(record)


def update_page(*, repository: RegistryRepository, principal: Principal, page_id: str, data: PageUpdate) -> PageRead:
    """Change a page (checklist items merge; ``status: archived`` archives it)."""
    before = _page_to_change(repository, principal, page_id)
    changes = data.model_dump(exclude_unset=True, exclude={"checklist"})
    now = now_iso()
    values: dict[str, Any] = {**before, **changes}
    if "url" in changes and "group_id" not in changes and before.get("group_id") == vk_group_id_of(before["url"]):
        values.pop("group_id", None)  # the id came from the old link: the new link decides
    if data.checklist:
        update = data.checklist.model_dump(exclude_none=True)
        checked_at = _iso(update.pop("checked_at", None)) or now
        values["checklist"] = merge_checklist(
            before.get("checklist") or {}, update, checked_at=checked_at, only_changed=False
        )
    after = finish_page(check_page_fields({key: value for key, value in values.items() if value is not None}))
    if after == before:
        return page_read(before)
    institution = _institution_of(repository, before)
    if after["status"] == "active" and institution["status"] != "active":
        raise ConflictError("the institution is archived", field="status")
    after = bump(after, at=now)
    _check_page_free(repository, principal, after)
    _commit_page(repository, principal, institution, before, after)
    return page_read(after)


def set_callback(
    *,
    repository: RegistryRepository,
    principal: Principal,
    page_id: str,
    data: CallbackSettings,
) -> PageRead:
    """Rotate a VK page's confirmation code and secret."""
    before = _page_to_change(repository, principal, page_id)
    after = bump(with_callback(record=before, settings=data), at=now_iso())
    _commit_page(repository, principal, _institution_of(repository, before), before, after)
    logger.info("callback settings rotated", extra={"page_id": page_id})
    return page_read(after)


def set_vk_token(
    *,
    repository: RegistryRepository,
    tokens: AccessTokenStore,
    vk: VkApi,
    principal: Principal,
    page_id: str,
    data: VkTokenUpdate,
) -> PageRead:
    """Check a community token with VK, keep it in the secret store, and record what VK says it may do."""
    before = _page_to_change(repository, principal, page_id)
    if before["platform"] != "vk" or before.get("group_id") is None:
        raise InvalidInputError("only a VK page with a community id takes a VK access token", field="access_token")
    token = data.access_token.get_secret_value()
    permissions = token_permissions(vk=vk, token=token)
    tokens.put(page_id=page_id, token=token)
    after = bump(before | {"has_access_token": True, "token_permissions": permissions}, at=now_iso())
    _commit_page(repository, principal, _institution_of(repository, before), before, after)
    logger.info("VK access token set", extra={"page_id": page_id, "permissions": permissions})
    return page_read(after)


def list_pages(
    *,
    repository: RegistryRepository,
    principal: Principal,
    where: PageFilter,
    region: str | None = None,
    institution_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Listing[PageRead]:
    """Pages in the caller's scope (by region, or of one institution)."""
    scope = readable_scope(principal=principal, region=region)
    if principal.role is Role.INSTITUTION_ADMIN:
        institution_id = institution_id or principal.institution
    if institution_id:
        institution = load_institution(repository=repository, institution_id=institution_id)
        principal.ensure_can_read(region_code=institution["region_code"], institution_id=institution_id)
        if scope and institution["region_code"] != scope:
            return Listing(items=[])
        records, next_cursor = repository.list_institution_pages(
            institution_id=institution_id, where=where, limit=limit, cursor=cursor
        )
    else:
        records, next_cursor = repository.list_pages(
            region_codes=regions_in(scope), where=where, limit=limit, cursor=cursor
        )
    return Listing(items=[page_read(record) for record in records], next_cursor=next_cursor)
