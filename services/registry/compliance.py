"""Page compliance: the checklist of design requirements and its weighted percentage.

Default weights (sum 100) follow the design part of the ЦУР "traffic light" (domain notes §4, §7 rows 4-9): the
«Госорганизация» mark and the connection to «Госпаблики» are scored most because they are mandatory and verified
externally; ПОС widgets count 0/1/2 (one widget earns half, two the full weight); name, cover and open comments
weigh 10 (rules the regional acts stress), every other contact or design element 5. Activity (posting norm) is not
part of it: the metrics service scores activity from events.

Weights are configurable without a deploy through ``GOSPUBLIKI_REGISTRY_COMPLIANCE_WEIGHTS`` (a JSON object of
item -> weight, merged over the defaults; zero drops an item). The percentage is stored on every write of a page,
so a change of weights applies to a page the next time it is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.config import get_settings

CHECKLIST_ITEMS = (
    "name_matches",
    "description",
    "phone",
    "address",
    "schedule",
    "email",
    "website_link",
    "avatar",
    "cover",
    "gov_mark",
    "pos_widgets",
    "connected_to_gospubliki",
    "comments_open",
)
MAX_POS_WIDGETS = 2

DEFAULT_WEIGHTS: dict[str, float] = {
    "gov_mark": 15,
    "connected_to_gospubliki": 10,
    "pos_widgets": 10,
    "name_matches": 10,
    "cover": 10,
    "comments_open": 10,
    "avatar": 5,
    "description": 5,
    "phone": 5,
    "address": 5,
    "schedule": 5,
    "email": 5,
    "website_link": 5,
}
# Compliance distribution buckets used by coverage counters: (name, lowest percentage included).
BUCKETS = (("100", 100), ("75-99", 75), ("50-74", 50), ("25-49", 25), ("0-24", 0))


def weights() -> dict[str, float]:
    """The weights in force: defaults overridden by the settings, if set."""
    overrides = get_settings().registry_compliance_weights
    return DEFAULT_WEIGHTS | {key: value for key, value in overrides.items() if key in CHECKLIST_ITEMS}


def item_score(item: str, value: Any) -> float:
    """The share (0..1) of an item's weight that a checklist value earns."""
    if item == "pos_widgets":
        return min(int(value or 0), MAX_POS_WIDGETS) / MAX_POS_WIDGETS
    return 1.0 if value else 0.0


def compliance_pct(checklist: Mapping[str, Mapping[str, Any]]) -> int:
    """Weighted percentage (0-100) of the checklist that is met; unchecked items earn nothing."""
    table = weights()
    total = sum(table.values())
    if total <= 0:
        return 0
    earned = sum(weight * item_score(item, (checklist.get(item) or {}).get("value")) for item, weight in table.items())
    return round(100 * earned / total)


def bucket(pct: int) -> str:
    """The distribution bucket of a compliance percentage."""
    return next(name for name, lowest in BUCKETS if pct >= lowest)
