"""The webhook's and the ingest worker's lookup of projected pages by VK community, through a TTL cache.

One ``PageCache`` per process and table, built by ``bootstrap``; ``shared.wiring.reset()`` drops it with the
repository, so a cached entry never outlives the table (or test) it was read from.
"""

from __future__ import annotations

import time

from services.appeals.repository import AppealsRepository, PageRef

CACHE_MAX_ENTRIES = 10_000


class PageCache:
    """Projected pages by VK group id, each kept ``ttl_seconds`` (unknown groups are cached too)."""

    def __init__(self, *, repository: AppealsRepository, ttl_seconds: float) -> None:
        self.repository = repository
        self.ttl_seconds = ttl_seconds
        self._entries: dict[int, tuple[float, PageRef | None]] = {}

    def lookup(self, group_id: int) -> PageRef | None:
        """The projected page of a VK community (``None`` if unknown), read at most once per TTL."""
        now = time.monotonic()
        cached = self._entries.get(group_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        page = self.repository.read_page_by_group(group_id)
        if len(self._entries) >= CACHE_MAX_ENTRIES:
            self._entries.clear()
        self._entries[group_id] = (now + self.ttl_seconds, page)
        return page
