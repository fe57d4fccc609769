"""boto3 clients created once per process, with one endpoint override for AWS, Yandex Cloud or the local stack.

Clients are created on first use, not at import, so a function's cold start pays only for what it calls.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from shared.config import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


@cache
def _client(service_name: str) -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        connect_timeout=2,
        read_timeout=10,
        retries={"mode": "standard", "max_attempts": 3},
        max_pool_connections=32,
    )
    return boto3.session.Session().client(
        service_name,  # type: ignore[call-overload]
        region_name=settings.aws_region,
        endpoint_url=settings.aws_endpoint_url,
        config=config,
    )


def dynamodb() -> DynamoDBClient:
    """The process-wide DynamoDB (or YDB Document API) client."""
    client: DynamoDBClient = _client("dynamodb")
    return client


def sqs() -> SQSClient:
    """The process-wide SQS (or Yandex Message Queue) client."""
    client: SQSClient = _client("sqs")
    return client


def secrets() -> SecretsManagerClient:
    """The process-wide Secrets Manager client."""
    client: SecretsManagerClient = _client("secretsmanager")
    return client


def reset_clients() -> None:
    """Forget cached clients (after the endpoint or settings change, e.g. in tests)."""
    _client.cache_clear()
