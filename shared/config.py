"""One settings object for every function, read from the environment (``GOSPUBLIKI_*``).

The SAM template sets the same variables in the cloud; the local stack sets them from the template too.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration shared by all services."""

    model_config = SettingsConfigDict(env_prefix="GOSPUBLIKI_", extra="ignore")

    environment: Literal["local", "aws", "yandex"] = "aws"
    stack_name: str = "gospubliki"
    aws_region: str = Field(default="eu-central-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(default=None, description="DynamoDB/SQS/Secrets endpoint override")

    registry_table: str = "gospubliki-registry"
    appeals_table: str = "gospubliki-appeals"
    metrics_table: str = "gospubliki-metrics"

    ingest_queue_url: str = ""
    activity_queue_url: str = ""
    appeals_registry_queue_url: str = ""
    metrics_registry_queue_url: str = ""

    auth_issuer: str = "https://sso.example.invalid/realms/gospubliki"
    auth_audience: str = "gospubliki-hub"
    auth_jwks_url: str | None = None
    auth_jwks_file: str | None = Field(default=None, description="Local JWKS file (local stack only)")

    registry_compliance_weights: dict[str, float] = Field(
        default_factory=dict, description="JSON object item -> weight over the registry's default checklist weights"
    )

    page_cache_ttl_seconds: float = Field(default=30.0, ge=0, description="Webhook's in-memory page cache TTL")

    @property
    def registry_event_queue_urls(self) -> list[str]:
        """Queues of every service that keeps a projection of the registry."""
        return [url for url in (self.appeals_registry_queue_url, self.metrics_registry_queue_url) if url]


@cache
def get_settings() -> Settings:
    """Settings of this process, read once (tests call ``get_settings.cache_clear()``)."""
    return Settings()
