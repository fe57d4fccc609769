"""The registry's wiring: its repository, access-token store and VK API client, built from the settings on first use.

``shared.wiring.reset()`` forgets them (tests and the local stack call it after changing the environment).
"""

from __future__ import annotations

from functools import cache

from services.registry.callbacks import AccessTokenStore
from services.registry.repository import RegistryRepository
from shared import wiring
from shared.aws import dynamodb, secrets
from shared.config import get_settings
from shared.vk_api import VkApi


@cache
def repository() -> RegistryRepository:
    """The registry repository over this process's table and client."""
    return RegistryRepository(client=dynamodb(), table=get_settings().registry_table)


@cache
def access_tokens() -> AccessTokenStore:
    """VK community access tokens in this stack's secret store."""
    return AccessTokenStore(client_factory=secrets, stack_name=get_settings().stack_name)


@cache
def vk_api() -> VkApi:
    """The VK API client of this process (community-token rate)."""
    return VkApi(base_url=get_settings().vk_api_url)


wiring.on_reset(repository.cache_clear)
wiring.on_reset(vk_api.cache_clear)
wiring.on_reset(access_tokens.cache_clear)
