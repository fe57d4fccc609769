"""Who hears about the changes moto applies: at most one observer per process (the running stack's journal)."""

from __future__ import annotations

from typing import Any, Protocol

Image = dict[str, Any]


class StoreObserver(Protocol):
    """Told about every change moto applies, while the request that caused it is still being answered."""

    def items_changed(self, table_arn: str, changes: list[tuple[Image, Image | None]]) -> None:
        """One write request's items, as ``(key, new image or None when deleted)``."""

    def secrets_changed(self, account_id: str, region: str, values: dict[str, str]) -> None:
        """Every secret's current string value in the account and region, after one of them changed."""

    def message_added(self, queue_arn: str, message_id: str, body: str, attributes: dict[str, Any]) -> None:
        """A message joined a standard queue (sent, or moved to it as a dead letter)."""

    def message_removed(self, queue_arn: str, message_id: str) -> None:
        """A message left a standard queue (deleted, purged, or moved to its dead-letter queue)."""


_current: list[StoreObserver] = []


def observe(observer: StoreObserver | None) -> None:
    """Make ``observer`` the one that hears about changes (``None``: nobody)."""
    _current[:] = [observer] if observer is not None else []


def current() -> StoreObserver | None:
    """The observer, if any."""
    return _current[0] if _current else None
