"""The local stack's moto patches, installed for every test here; clients of the session's moto server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tooling.local import patches
from tooling.local.stack import LOCAL_REGION

TableFactory = Callable[..., str]


@pytest.fixture(scope="session", autouse=True)
def moto_patched() -> None:
    """What ``LocalStack.start`` installs (once per process)."""
    patches.install()


def _client(service: str, endpoint: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=LOCAL_REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def dynamodb(moto_endpoint: str) -> Any:
    """A DynamoDB client of the moto server, over HTTP."""
    return _client("dynamodb", moto_endpoint)


@pytest.fixture
def sqs(moto_endpoint: str) -> Any:
    """An SQS client of the moto server, over HTTP."""
    return _client("sqs", moto_endpoint)


@pytest.fixture
def make_table(dynamodb: Any) -> TableFactory:
    """``make_table()`` -> the name of a new ``PK``/``SK`` table with a ``GSI1`` (``GSI1PK``/``GSI1SK``)."""

    def create() -> str:
        name = f"t{uuid.uuid4().hex[:12]}"
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": attribute, "AttributeType": "S"} for attribute in ("PK", "SK", "GSI1PK", "GSI1SK")
            ],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "GSI1",
                    "KeySchema": [
                        {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                        {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        return name

    return create
