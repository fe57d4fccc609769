"""Coverage report: institutions with pages, pages by platform, «Госорганизация» marks, compliance distribution."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import cast

from services.registry.access import region_wide_scope, regions_in
from services.registry.compliance import BUCKETS
from services.registry.counters import PLATFORMS
from services.registry.models import SPHERES, CoverageReport, CoverageStats, RegionCoverage
from services.registry.records import CoverageCounters
from services.registry.repository import RegistryRepository
from shared.auth import Principal
from shared.regions import get_region


def _counts(counters: CoverageCounters) -> Counter[str]:
    return Counter(cast(Mapping[str, int], counters))


def _stats(counts: Counter[str]) -> CoverageStats:
    denominator = counts["institutions"] - counts["exempt"]
    return CoverageStats(
        institutions=counts["institutions"],
        institutions_with_pages=counts["with_pages"],
        exempt=counts["exempt"],
        coverage_pct=round(100 * counts["with_pages"] / denominator, 1) if denominator > 0 else 0.0,
        pages=counts["pages"],
        pages_by_platform={platform: counts[f"pages_{platform}"] for platform in PLATFORMS},
        gov_mark_pages=counts["gov_mark"],
        gov_mark_share=round(100 * counts["gov_mark"] / counts["pages"], 1) if counts["pages"] else 0.0,
        compliance={name: counts[f"c_{name}"] for name, _ in BUCKETS},
    )


def coverage_report(
    *, repository: RegistryRepository, principal: Principal, region: str | None = None
) -> CoverageReport:
    """Coverage per region and sphere, read from counters kept on write (BatchGetItem, no scans); a region-wide read."""
    scope = region_wide_scope(principal=principal, region=region, action="read coverage")
    codes = regions_in(scope)
    counters = repository.coverage_counters(region_codes=codes, spheres=SPHERES)
    regions = []
    national: Counter[str] = Counter()
    national_spheres: dict[str, Counter[str]] = {sphere: Counter() for sphere in SPHERES}
    for code in codes:
        total = _counts(counters[(code, None)])
        national.update(total)
        spheres = {}
        for sphere in SPHERES:
            counts = _counts(counters[(code, sphere)])
            national_spheres[sphere].update(counts)
            spheres[sphere] = _stats(counts)
        name = get_region(code).name
        regions.append(RegionCoverage(region_code=code, region_name=name, total=_stats(total), spheres=spheres))
    if scope:
        return CoverageReport(regions=regions)
    return CoverageReport(
        regions=regions,
        total=_stats(national),
        spheres={sphere: _stats(counts) for sphere, counts in national_spheres.items()},
    )
