"""The metrics service's wiring: its repository, built from the settings on first use.

``shared.wiring.reset()`` forgets it, so the next use reads the (changed) environment again.
"""

from __future__ import annotations

from functools import cache

from services.metrics.repository import MetricsRepository
from shared import wiring
from shared.aws import dynamodb
from shared.config import get_settings


@cache
def repository() -> MetricsRepository:
    """The metrics repository over this process's table and client."""
    return MetricsRepository(client=dynamodb(), table=get_settings().metrics_table)


wiring.on_reset(repository.cache_clear)
