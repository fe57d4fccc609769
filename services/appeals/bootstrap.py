"""The appeals service's wiring: its repository and page cache, built from the settings on first use.

``shared.wiring.reset()`` forgets both, so the next use reads the (changed) environment again.
"""

from __future__ import annotations

from functools import cache

from services.appeals.pages import PageCache
from services.appeals.repository import AppealsRepository
from shared import wiring
from shared.aws import dynamodb
from shared.config import get_settings


@cache
def repository() -> AppealsRepository:
    """The appeals repository over this process's table and client."""
    return AppealsRepository(client=dynamodb(), table=get_settings().appeals_table)


@cache
def page_cache() -> PageCache:
    """The process's cache of projected pages by VK community."""
    return PageCache(repository=repository(), ttl_seconds=get_settings().page_cache_ttl_seconds)


wiring.on_reset(repository.cache_clear)
wiring.on_reset(page_cache.cache_clear)
