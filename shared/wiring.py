"""Process-wide dependencies and the one way to forget them.

Each service's ``bootstrap`` module builds its repository and clients from the settings on first use and registers
how to drop them here. Tests and the local stack call ``reset()`` after changing the environment; nothing else
clears caches.
"""

from __future__ import annotations

from collections.abc import Callable

_resets: list[Callable[[], None]] = []


def on_reset(forget: Callable[[], None]) -> Callable[[], None]:
    """Register ``forget`` to run on every ``reset()``; returns it (usable as a decorator)."""
    _resets.append(forget)
    return forget


def reset() -> None:
    """Forget settings, AWS clients, signing keys and every service's wiring: the next use rebuilds them."""
    from shared.auth import reset_key_cache
    from shared.aws import reset_clients
    from shared.config import get_settings

    get_settings.cache_clear()
    reset_clients()
    reset_key_cache()
    for forget in _resets:
        forget()
