"""Lambda entrypoint of ``AppealsOutboxFunction``: the scheduled relay of appeal events (every minute, no FastAPI).

Workflow changes write their ``appeal.*`` events into the table's outbox in the change's transaction and publish
them right after it (``bootstrap.dispatch_outbox``); what is still there ``RELAY_AFTER_SECONDS`` later (the
publish failed, or the process died in between) this relay sends to the activity queue and deletes
(``shared.outbox``). Metrics counts each ``change_id`` once, so a repeated event is harmless.
"""

from __future__ import annotations

from services.appeals import bootstrap
from shared import outbox as shared_outbox
from shared.workers import ScheduledRun, scheduled_handler

RELAY_AFTER_SECONDS = shared_outbox.RELAY_AFTER_SECONDS


def run_relay(run: ScheduledRun) -> dict[str, int]:
    """Publish appeal events whose first publish failed; safe to repeat for the same ``execution_id``."""
    return shared_outbox.relay(
        store=bootstrap.repository(),
        publish=bootstrap.publish_events,
        logger=bootstrap.logger,
        after_seconds=RELAY_AFTER_SECONDS,
        run=run,
    )


handler = scheduled_handler(run_relay, service="appeals")
