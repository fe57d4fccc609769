"""Registry fixtures: an API client over the ``aws`` fixture, tokens, factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.registry.helpers import institution_payload, page_payload


@pytest.fixture
def client(aws: Any) -> Iterator[TestClient]:
    """The registry app over the ``aws`` fixture's moto server."""
    from services.registry.app import app

    del aws
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def federal(auth_header: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth_header("federal_admin")


@pytest.fixture
def admin54(auth_header: Callable[..., dict[str, str]]) -> dict[str, str]:
    return auth_header("regional_admin", "54")


@pytest.fixture
def create_institution(client: TestClient, federal: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def factory(region: str = "54", **overrides: Any) -> dict[str, Any]:
        response = client.post("/registry/institutions", json=institution_payload(region, **overrides), headers=federal)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    return factory


@pytest.fixture
def create_page(client: TestClient, federal: dict[str, str]) -> Callable[..., dict[str, Any]]:
    def factory(institution_id: str, **overrides: Any) -> dict[str, Any]:
        response = client.post(
            f"/registry/institutions/{institution_id}/pages", json=page_payload(**overrides), headers=federal
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    return factory
