"""VK ids as they may enter the system: bounded positive integers written as plain ASCII digits.

Group ids, user ids and owner ids (negative for communities) arrive in webhooks, page URLs, import rows and API
bodies. Anything else - superscript or other Unicode digits, signs where none belong, thousands of digits - is
refused at the edge with a 4xx, so no stored record can break a list later.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_VK_ID = 10**11 - 1
"""Largest id accepted: two orders of magnitude above VK's ids today (about 10^9), far below 64-bit limits."""

VkId = Annotated[int, Field(ge=1, le=MAX_VK_ID)]
"""A positive VK id (group, user, post, comment) within ``MAX_VK_ID``."""

OwnerId = Annotated[int, Field(ge=-MAX_VK_ID, le=MAX_VK_ID)]
"""A VK owner id: a user (positive) or a community (negative), within ``MAX_VK_ID``."""


def parse_vk_id(value: object) -> int | None:
    """A positive VK id from an int or a string of ASCII digits; ``None`` for anything else or out of bounds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value) <= len(str(MAX_VK_ID)) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_VK_ID else None
