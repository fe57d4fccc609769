"""The metrics service's wiring: its repository, the VK client and service token, built on first use.

``shared.wiring.reset()`` forgets them, so the next use reads the (changed) environment again.
"""

from __future__ import annotations

from functools import cache

from services.metrics.repository import MetricsRepository
from shared import wiring
from shared.aws import dynamodb, secrets
from shared.config import get_settings
from shared.vk_api import SERVICE_TOKEN_RPS, VkApi


@cache
def repository() -> MetricsRepository:
    """The metrics repository over this process's table and client."""
    return MetricsRepository(client=dynamodb(), table=get_settings().metrics_table)


@cache
def vk() -> VkApi:
    """The VK API client of the service token (3 requests a second)."""
    return VkApi(base_url=get_settings().vk_api_url, rate=SERVICE_TOKEN_RPS)


def service_token() -> str | None:
    """The VK service token from the secret store (``None`` while it is not there)."""
    settings = get_settings()
    secret_id = settings.vk_service_token_secret or f"{settings.stack_name}/vk/service-token"
    client = secrets()
    try:
        return client.get_secret_value(SecretId=secret_id)["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        return None


wiring.on_reset(repository.cache_clear)
wiring.on_reset(vk.cache_clear)
