"""Overdue schedule (every 5 minutes): flags open appeals past their running deadline, once per deadline.

Reads the sparse index of open appeals by deadline (no scan); each one's ``appeal.overdue`` goes to the metrics
queue and its notice to the notifications queue.
"""

from __future__ import annotations

from typing import Any

from services.appeals import bootstrap
from shared.workers import ScheduledRun, scheduled_handler


def run(scheduled: ScheduledRun) -> dict[str, Any]:
    """Flag what is overdue at the scheduled time."""
    from services.appeals.workflow import flag_overdue

    flagged = flag_overdue(
        repository=bootstrap.repository(), now=scheduled.scheduled_time, publish=bootstrap.publish_effects
    )
    return {"flagged": flagged}


handler = scheduled_handler(run, service="appeals")
