"""The ingest queue's message: what the webhook queued for one VK callback (the ingest worker parses every one)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


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
        value = self.envelope.get("object")
        return value if isinstance(value, dict) else {}

    @property
    def event_id(self) -> str:
        """VK's event id as a string (it may arrive as a number); a content hash if VK sent none."""
        value = self.envelope.get("event_id")
        if value is not None and str(value):
            return str(value)
        return hashlib.sha256(repr(sorted(self.envelope.items())).encode()).hexdigest()
