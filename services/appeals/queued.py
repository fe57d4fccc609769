"""The ingest queue's message: what the webhook queued for one VK callback (the ingest worker parses every one)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

MAX_EVENT_ID_CHARS = 64


class UnusableEvent(Exception):
    """A VK event this service cannot use (no object, a shape it does not know, ids out of bounds).

    It is acknowledged and recorded as rejected with ``reason`` (field names, never values), not retried.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QueuedEvent(BaseModel):
    """What the webhook put on the ingest queue: the envelope (minus ``secret``) and delivery facts."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    received_at: datetime
    retry_counter: int | None = None
    envelope: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.envelope["type"])

    @property
    def group_id(self) -> int:
        return int(self.envelope["group_id"])

    @property
    def object(self) -> dict[str, Any]:
        """The event's ``object`` (``UnusableEvent`` if VK sent none)."""
        value = self.envelope.get("object")
        if not isinstance(value, dict):
            raise UnusableEvent("event without an object")
        return value

    @property
    def event_id(self) -> str:
        """VK's event id as a string (it may arrive as a number); a content hash if VK sent none or an odd one."""
        value = self.envelope.get("event_id")
        if isinstance(value, bool) or not isinstance(value, str | int):
            value = None
        text = str(value) if value is not None else ""
        if 0 < len(text) <= MAX_EVENT_ID_CHARS and text.isascii() and text.isprintable():
            return text
        canonical = json.dumps(self.envelope, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
