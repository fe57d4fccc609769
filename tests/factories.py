"""Builders of contract objects shared by the test packages."""

from __future__ import annotations

from typing import Any

from shared.events import PageUpserted


def page_upserted(**fields: Any) -> PageUpserted:
    """A ``page.upserted`` payload of an active VK page in region 54; ``fields`` override the defaults."""
    group_id = fields.get("group_id", 201077021)
    values: dict[str, Any] = {
        "page_id": "page-1",
        "institution_id": "inst-1",
        "region_code": "54",
        "platform": "vk",
        "group_id": group_id,
        "url": f"https://vk.com/club{group_id}",
        "category": "active",
        "revision": 1,
    }
    values.update(fields)
    return PageUpserted(**values)
