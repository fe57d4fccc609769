"""Anonymisation schedule (daily): blanks the text, author id and attachments of appeals closed long enough ago.

Reads the sparse index of closed appeals by the instant their text expires (``GOSPUBLIKI_APPEALS_ANONYMISE_AFTER_DAYS``
after closing, 365 by default); nothing of the texts is logged.
"""

from __future__ import annotations

from typing import Any

from services.appeals import bootstrap
from shared.workers import ScheduledRun, scheduled_handler


def run(scheduled: ScheduledRun) -> dict[str, Any]:
    """Anonymise what expired by the scheduled time."""
    from services.appeals.workflow import anonymise_closed

    return {"anonymised": anonymise_closed(repository=bootstrap.repository(), now=scheduled.scheduled_time)}


handler = scheduled_handler(run, service="appeals")
