"""The per-process TTL cache: loads once per TTL, caches misses, forgets a written key, starts over when full."""

from __future__ import annotations

import pytest

from shared import ttl_cache
from shared.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(ttl_cache.time, "monotonic", fake)
    return fake


def test_loads_once_per_ttl_and_caches_misses(clock: Clock) -> None:
    loads: list[str] = []
    values = {"54": "policy-54"}

    def load(key: str) -> str | None:
        loads.append(key)
        return values.get(key)

    cache = TtlCache(load=load, ttl_seconds=30)
    assert [cache.get("54"), cache.get("54"), cache.get("77"), cache.get("77")] == [
        "policy-54",
        "policy-54",
        None,
        None,
    ]
    assert loads == ["54", "77"], "a miss is cached too"
    values["54"] = "changed"
    clock.now += 29
    assert cache.get("54") == "policy-54", "within the TTL the process keeps what it read"
    clock.now += 2
    assert cache.get("54") == "changed"
    cache.forget("54")
    values["54"] = "written here"
    assert cache.get("54") == "written here", "a write in this process applies at once"


@pytest.mark.usefixtures("clock")
def test_a_zero_ttl_always_loads_and_a_full_cache_starts_over() -> None:
    loads: list[int] = []
    uncached = TtlCache(load=lambda key: loads.append(key) or key, ttl_seconds=0)
    uncached.get(1)
    uncached.get(1)
    assert loads == [1, 1]
    small = TtlCache(load=lambda key: loads.append(key) or key, ttl_seconds=60, max_entries=2)
    loads.clear()
    for key in (1, 2, 3, 1):
        small.get(key)
    assert loads == [1, 2, 3, 1], "the third key cleared the cache, so 1 is loaded again"
