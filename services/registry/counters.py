"""Coverage counters, kept on write so a coverage report reads a few items instead of the whole registry.

An active page adds to its institution's ``page_stats``; an active institution adds itself and its page stats to
its region's counters, once for the whole region and once per sphere. A change moves the counters by the
difference of its contribution before and after, in the same transaction as the change.
"""

from __future__ import annotations

from collections import Counter
from typing import get_args

from services.registry.compliance import BUCKETS, bucket
from services.registry.records import InstitutionRecord, PageRecord, Unit, bump, page_event
from shared.events import Platform

PLATFORMS: tuple[str, ...] = get_args(Platform)
COUNTER_ATTRIBUTES: tuple[str, ...] = (
    "institutions",
    "with_pages",
    "exempt",
    "pages",
    "gov_mark",
    *(f"pages_{platform}" for platform in PLATFORMS),
    *(f"c_{name}" for name, _ in BUCKETS),
)

CounterKey = tuple[str, str | None, str]
"""``(region code, sphere or None for the whole region, counter attribute)``."""


def page_contribution(page: PageRecord | None) -> Counter[str]:
    """What one page adds to its institution's ``page_stats`` (nothing when archived)."""
    if page is None or page["status"] != "active":
        return Counter()
    gov_mark_entry = page.get("checklist", {}).get("gov_mark")
    gov_mark = bool(gov_mark_entry and gov_mark_entry.get("value"))
    return Counter(
        {
            "pages": 1,
            f"pages_{page['platform']}": 1,
            "gov_mark": int(gov_mark),
            f"c_{bucket(int(page.get('compliance_pct') or 0))}": 1,
        }
    )


def institution_contribution(institution: InstitutionRecord | None) -> Counter[CounterKey]:
    """What an institution (with its page stats) adds to the coverage counters."""
    if institution is None or institution["status"] != "active":
        return Counter()
    stats = Counter({key: int(value) for key, value in (institution.get("page_stats") or {}).items()})
    values = Counter(stats)
    values["institutions"] = 1
    values["with_pages"] = int(stats["pages"] > 0)
    values["exempt"] = int(stats["pages"] == 0 and bool(institution.get("no_page_reason")))
    result: Counter[CounterKey] = Counter()
    for sphere in (None, *institution["spheres"]):
        for attribute, value in values.items():
            if value:
                result[(institution["region_code"], sphere, attribute)] += value
    return result


def counter_delta(unit: Unit) -> Counter[CounterKey]:
    """How a unit moves the coverage counters (zero entries left out)."""
    delta = institution_contribution(unit.institution_after)
    delta.subtract(institution_contribution(unit.institution_before))
    return Counter({key: value for key, value in delta.items() if value})


def with_page_change(
    institution: InstitutionRecord, before: PageRecord | None, after: PageRecord | None
) -> InstitutionRecord:
    """The institution with its ``page_stats`` moved from one page state to another (same revision)."""
    stats = Counter({key: int(value) for key, value in (institution.get("page_stats") or {}).items()})
    stats.update(page_contribution(after))
    stats.subtract(page_contribution(before))
    result = institution.copy()
    result["page_stats"] = {key: value for key, value in sorted(stats.items()) if value}
    return result


def page_change_unit(institution: InstitutionRecord, before: PageRecord | None, after: PageRecord) -> Unit:
    """One page's new state as a write unit: the page, its institution's page stats (a new revision if they moved)
    and the page's event."""
    institution_after = with_page_change(institution, before, after)
    if institution_after != institution:
        institution_after = bump(institution_after, at=after["updated_at"])
    return Unit(
        institution_before=institution,
        institution_after=institution_after,
        pages=[(before, after)],
        events=[page_event(after)],
    )
