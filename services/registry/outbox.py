"""Lambda entrypoint of ``RegistryOutboxFunction``: the scheduled outbox relay (every minute, no FastAPI import)."""

from __future__ import annotations

from services.registry import bootstrap
from services.registry.publishing import relay
from shared.workers import ScheduledRun, scheduled_handler


def run_relay(run: ScheduledRun) -> dict[str, int]:
    """Publish events whose first publish failed; safe to repeat for the same ``execution_id``."""
    return relay(repository=bootstrap.repository(), run=run)


handler = scheduled_handler(run_relay, service="registry")
