"""Every service's error shape: 4xx naming the field and the reason, never echoing the input."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, SecretStr

from shared.errors import ConflictError, PayloadTooLargeError
from shared.web import KnownRegion, create_app

app = create_app(service="test", title="test")


class Body(BaseModel):
    name: str
    secret: Annotated[SecretStr, Field(min_length=16, max_length=50)]


@app.post("/things")
def create_thing(body: Body) -> dict[str, str]:
    if body.name == "taken":
        raise ConflictError("already registered", field="name")
    if len(body.name) > 100:
        raise PayloadTooLargeError("longer than 100 characters", field="name")
    return {"name": body.name}


@app.get("/things")
def list_things(region: Annotated[KnownRegion | None, Query()] = None) -> dict[str, str | None]:
    return {"region": region}


client = TestClient(app)


def test_invalid_json_names_the_body() -> None:
    response = client.post("/things", content="{", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body"
    assert response.json()["message"].startswith("body: invalid JSON")


def test_a_non_object_body_names_the_body() -> None:
    response = client.post("/things", json=[1, 2])
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "body"


def test_short_secret_says_characters_and_is_not_echoed() -> None:
    response = client.post("/things", json={"name": "x", "secret": "tiny-secret"})
    assert response.status_code == 422
    assert response.json()["message"] == "secret: must have at least 16 characters"
    assert "tiny-secret" not in response.text


def test_domain_errors_keep_their_status_and_field() -> None:
    response = client.post("/things", json={"name": "taken", "secret": "s" * 16})
    assert response.status_code == 409
    assert response.json() == {
        "message": "name: already registered",
        "detail": [{"field": "name", "message": "already registered"}],
    }


def test_a_payload_past_a_limit_is_413_in_the_error_shape() -> None:
    response = client.post("/things", json={"name": "x" * 101, "secret": "s" * 16})
    assert response.status_code == 413
    assert response.json() == {
        "message": "name: longer than 100 characters",
        "detail": [{"field": "name", "message": "longer than 100 characters"}],
    }


def test_unknown_region_is_422_and_known_region_passes() -> None:
    bad = client.get("/things", params={"region": "99"})
    assert bad.status_code == 422 and bad.json()["message"] == "region: unknown region code '99'"
    assert client.get("/things", params={"region": "91"}).json() == {"region": "91"}


@pytest.mark.parametrize("module", ["services.registry.app", "services.appeals.app", "services.metrics.app"])
def test_every_route_declares_the_error_schema_for_what_any_route_may_answer(module: str) -> None:
    import importlib

    spec = importlib.import_module(module).app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"], "FastAPI's own 422 shape is never answered"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path == "/health":
                continue
            for status in ("400", "401", "403", "404", "409", "413", "422", "503"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
