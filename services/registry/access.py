"""Who may read and change what in the registry; every use case decides with these before it acts.

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

from shared.auth import Principal, Role
from shared.errors import ForbiddenError, InvalidInputError
from shared.regions import REGIONS, UnknownRegionError, normalize_region_code


def region_code_of(value: str) -> str:
    """A 2-digit region code, or 422 naming ``region``."""
    try:
        return normalize_region_code(value)
    except UnknownRegionError as error:
        raise InvalidInputError(str(error), field="region") from None


def readable_scope(*, principal: Principal, region: str | None) -> str | None:
    """The one region a regional read is restricted to (``None``: all, federal admins only); 404 out of scope."""
    return principal.readable_region(region_code_of(region) if region else None)


def regions_in(scope: str | None) -> list[str]:
    """The region codes a scope covers, in code order."""
    return [scope] if scope else [region.code for region in REGIONS]


def ensure_institution_writer(*, principal: Principal, region_code: str) -> None:
    """403 unless the caller may create or change institutions of this region."""
    if principal.role not in (Role.FEDERAL_ADMIN, Role.REGIONAL_ADMIN):
        raise ForbiddenError(f"{principal.role.value} may not change institutions")
    principal.ensure_can_write(region_code=region_code)


def ensure_page_writer(*, principal: Principal, region_code: str, institution_id: str) -> None:
    """403 unless the caller may create or change pages of this institution."""
    if principal.role in (Role.OPERATOR, Role.PORTAL):
        raise ForbiddenError(f"{principal.role.value} has read-only access to the registry")
    principal.ensure_can_write(region_code=region_code, institution_id=institution_id)


def ensure_regional_reader(*, principal: Principal) -> None:
    """403 for roles that only see one institution."""
    if principal.role is Role.INSTITUTION_ADMIN:
        raise ForbiddenError("needs a regional role")
