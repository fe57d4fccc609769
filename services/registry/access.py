"""Who may read and change what in the registry; every use case decides with these before it acts.

Access matrix (out-of-scope reads answer 404, out-of-scope or forbidden writes 403 saying what was refused and why:
``may not <action>: <reason>``):

=================  ==========================  ==========================  ================================
role               read                        institutions: create/edit   pages: create/edit/callback
=================  ==========================  ==========================  ================================
federal_admin      everything                  everywhere                  everywhere
regional_admin     own region                  own region (+ import)       own region
operator           own region                  no (read-only registry)     no
institution_admin  own institution + pages     no                          own institution's pages
portal             own region                  no (read-only client)       no
=================  ==========================  ==========================  ================================

Export and coverage are region-wide reads (``Principal.region_wide_scope``): institution admins get 403 for them.
A conflict (409) names the object holding the value only if the caller may read it.
"""

from __future__ import annotations

from services.registry.records import InstitutionRecord, PageRecord
from shared.auth import Principal, Role
from shared.errors import ForbiddenError, InvalidInputError
from shared.regions import REGIONS, UnknownRegionError, normalize_region_code

_READ_ONLY = {Role.OPERATOR: "an operator's access is read-only", Role.PORTAL: "portal clients are read-only"}


def region_code_of(value: str) -> str:
    """A 2-digit region code, or 422 naming ``region``."""
    try:
        return normalize_region_code(value)
    except UnknownRegionError as error:
        raise InvalidInputError(str(error), field="region") from None


def readable_scope(*, principal: Principal, region: str | None) -> str | None:
    """The one region a regional read is restricted to (``None``: all, federal admins only); 404 out of scope."""
    return principal.readable_region(region_code_of(region) if region else None)


def region_wide_scope(*, principal: Principal, region: str | None, action: str) -> str | None:
    """The region a region-wide read (coverage, export) covers: ``Principal.region_wide_scope`` of the given code.

    Its 403 names ``action`` (e.g. ``read coverage``), then why the role may not.
    """
    try:
        return principal.region_wide_scope(region_code_of(region) if region else None)
    except ForbiddenError as error:
        raise ForbiddenError(f"{principal.role.value} may not {action}: {error.message}") from None


def regions_in(scope: str | None) -> list[str]:
    """The region codes a scope covers, in code order."""
    return [scope] if scope else [region.code for region in REGIONS]


def ensure_institution_writer(*, principal: Principal, region_code: str, action: str = "change institutions") -> None:
    """403 unless the caller may create or change institutions (and region settings, imports) of this region."""
    if principal.role not in (Role.FEDERAL_ADMIN, Role.REGIONAL_ADMIN):
        reason = _READ_ONLY.get(principal.role, "an institution admin changes its institution's pages only")
        raise ForbiddenError(f"may not {action}: {reason}")
    if not principal.can_read(region_code=region_code):
        raise ForbiddenError(f"may not {action}: outside your region {principal.region}")


def ensure_page_writer(*, principal: Principal, region_code: str, institution_id: str) -> None:
    """403 unless the caller may create or change pages of this institution."""
    if principal.role in _READ_ONLY:
        raise ForbiddenError(f"may not change pages: {_READ_ONLY[principal.role]}")
    if not principal.can_read(region_code=region_code, institution_id=institution_id):
        scope = "institution" if principal.role is Role.INSTITUTION_ADMIN else f"region {principal.region}"
        raise ForbiddenError(f"may not change pages: outside your {scope}")


def institution_holder(*, principal: Principal, institution: InstitutionRecord | None) -> str:
    """How a conflict names the institution holding a unique value: by id if the caller may read it."""
    if institution is None:
        return "another institution"
    if principal.can_read(region_code=institution["region_code"], institution_id=institution["id"]):
        return f"institution {institution['id']}"
    return "an institution outside your scope"


def page_holder(*, principal: Principal, page: PageRecord | None) -> str:
    """How a conflict names the page holding a unique value: by id if the caller may read it."""
    if page is None:
        return "another page"
    if principal.can_read(region_code=page["region_code"], institution_id=page["institution_id"]):
        return f"page {page['id']}"
    return "a page outside your scope"
