"""A per-process read-through cache whose entries live a fixed time (misses are cached too).

Warm functions keep hot, rarely changing records (a VK community's page, a region's policy) this way instead of
reading them per event; a write in the same process forgets its key at once, other processes see it within the TTL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_ENTRIES = 10_000


class TtlCache(Generic[K, V]):
    """``load(key)`` results kept ``ttl_seconds`` each; at ``max_entries`` the cache starts over."""

    def __init__(self, *, load: Callable[[K], V], ttl_seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self._load = load
        self._ttl_seconds = ttl_seconds
        self._max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V:
        """The value of ``key``, loaded at most once per TTL."""
        now = time.monotonic()
        cached = self._entries.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        value = self._load(key)
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (now + self._ttl_seconds, value)
        return value

    def forget(self, key: K) -> None:
        """Drop ``key`` (its next ``get`` loads it again)."""
        self._entries.pop(key, None)
