"""One settings object for every function, read from the environment (``GOSPUBLIKI_*``).

The SAM template sets the same variables in the cloud; the local stack sets them from the template too. A plain
pydantic model read from ``os.environ`` (not pydantic-settings): workers pay only for what they parse.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, Json, ValidationError

ENV_PREFIX = "GOSPUBLIKI_"
ENV_ALIASES = {"aws_region": "AWS_REGION"}


class SettingsError(ValueError):
    """An environment variable holds a value the settings cannot use."""


class Settings(BaseModel):
    """Runtime configuration shared by all services."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    stack_name: str = "gospubliki"
    aws_region: str = "eu-central-1"
    aws_endpoint_url: str | None = Field(default=None, description="DynamoDB/SQS/Secrets endpoint override")

    registry_table: str = "gospubliki-registry"
    appeals_table: str = "gospubliki-appeals"
    metrics_table: str = "gospubliki-metrics"

    ingest_queue_url: str = ""
    activity_queue_url: str = ""
    appeals_registry_queue_url: str = ""
    metrics_registry_queue_url: str = ""
    registry_metrics_queue_url: str = Field(default="", description="Where metrics publishes to the registry")
    appeals_outbound_queue_url: str = Field(default="", description="Replies waiting for the VK sender")
    appeals_notifications_queue_url: str = Field(default="", description="Notices waiting for a region's webhook")
    appeals_anonymise_after_days: int = Field(
        default=365, ge=0, le=36_500, description="Days after closing that an appeal keeps its text and author"
    )
    vk_service_token_secret: str = Field(
        default="", description="Secret id of the VK service token (default: <stack_name>/vk/service-token)"
    )
    metrics_score_weights: Json[dict[str, dict[str, float]]] | None = Field(
        default=None, description="JSON object: region code (or 'default') -> score component -> weight"
    )
    metrics_internet_audience: Json[dict[str, int]] | None = Field(
        default=None, description="JSON object: region code -> internet audience (reference for the region rating)"
    )

    auth_issuer: str = "https://sso.example.invalid/realms/gospubliki"
    auth_audience: str = "gospubliki-hub"
    auth_jwks_url: str | None = None
    auth_jwks_file: str | None = Field(default=None, description="Local JWKS file (local stack only)")

    registry_compliance_weights: Json[dict[str, float]] = Field(
        default_factory=dict, description="JSON object item -> weight over the registry's default checklist weights"
    )

    vk_api_url: str = Field(default="https://api.vk.com/method", description="VK API base; the fake VK locally")

    cache_ttl_seconds: float = Field(
        default=30.0, ge=0, description="How long a process keeps pages, policies and institutions it read (appeals)"
    )

    @property
    def registry_event_queue_urls(self) -> list[str]:
        """Queues of every service that keeps a projection of the registry."""
        return [url for url in (self.appeals_registry_queue_url, self.metrics_registry_queue_url) if url]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from ``GOSPUBLIKI_<FIELD>`` variables (and ``AWS_REGION``); empty values count as unset."""
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = environ.get(ENV_ALIASES.get(name, ENV_PREFIX + name.upper()))
            if raw:
                values[name] = raw
        try:
            return cls.model_validate(values)
        except (ValidationError, ValueError) as error:
            raise SettingsError(f"invalid configuration: {error}") from error


@cache
def get_settings() -> Settings:
    """Settings of this process, read once (``shared.wiring.reset()`` forgets them)."""
    return Settings.from_environ(os.environ)
