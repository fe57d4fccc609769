"""Regions: the federal subjects and each region's settings (posting norms per page category)."""

from __future__ import annotations

from services.registry.access import ensure_institution_writer, region_code_of
from services.registry.models import RegionRead, RegionSettings
from services.registry.repository import RegistryRepository
from shared.auth import Principal
from shared.regions import REGIONS


def list_regions() -> list[RegionRead]:
    """The 89 federal subjects."""
    return [RegionRead(code=region.code, name=region.name, timezone=region.timezone) for region in REGIONS]


def get_region_settings(*, repository: RegistryRepository, principal: Principal, region_code: str) -> RegionSettings:
    """A region's posting norms (defaults unless set)."""
    code = region_code_of(region_code)
    principal.readable_region(code)
    record = repository.get_region_settings(code)
    return RegionSettings.model_validate({"posting_norms": record["posting_norms"]} if record else {})


def put_region_settings(
    *, repository: RegistryRepository, principal: Principal, region_code: str, data: RegionSettings
) -> RegionSettings:
    """Replace a region's posting norms."""
    code = region_code_of(region_code)
    ensure_institution_writer(principal=principal, region_code=code, action="change region settings")
    norms = {**RegionSettings().posting_norms, **data.posting_norms}
    repository.put_region_settings({"region_code": code, "posting_norms": norms})
    return RegionSettings(posting_norms=norms)
