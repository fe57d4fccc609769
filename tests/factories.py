"""Builders of contract objects shared by the test packages."""

from __future__ import annotations

import time
import uuid
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


def wall_comment(group_id: int, secret: str, text: str, **object_fields: Any) -> dict[str, Any]:
    """A ``wall_reply_new`` callback as VK sends it: a citizen's comment on a post of the community, now."""
    return {
        "type": "wall_reply_new",
        "event_id": uuid.uuid4().hex,
        "v": "5.199",
        "group_id": group_id,
        "secret": secret,
        "object": {
            "id": time.time_ns() // 1000 % 1_000_000_000,
            "from_id": 499047616,
            "post_id": 7,
            "owner_id": -group_id,
            "post_owner_id": -group_id,
            "parents_stack": [],
            "date": int(time.time()),
            "text": text,
            **object_fields,
        },
    }
