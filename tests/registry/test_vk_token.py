"""A page's VK community token: checked with VK, kept write-only in the secret store, its permissions shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from shared import wiring

TOKEN = "vk1.a.community-token-for-tests"


@pytest.fixture(autouse=True)
def vk_is_the_fake(fake_vk: str, aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    del aws
    monkeypatch.setenv("GOSPUBLIKI_VK_API_URL", f"{fake_vk}/method")
    wiring.reset()


@pytest.fixture
def page(create_institution: Callable[..., dict[str, Any]], create_page: Callable[..., dict[str, Any]]) -> Any:
    return create_page(create_institution()["id"])


def test_a_checked_token_is_stored_write_only_with_its_permissions(
    client: TestClient, admin54: dict[str, str], page: dict[str, Any]
) -> None:
    from shared.aws import secrets
    from shared.config import get_settings

    answer = client.put(f"/registry/pages/{page['id']}/vk-token", json={"access_token": TOKEN}, headers=admin54)
    assert answer.status_code == 200, answer.text
    assert answer.json()["has_access_token"] is True and TOKEN not in answer.text
    assert {"messages", "wall"} <= set(answer.json()["token_permissions"])
    assert client.get(f"/registry/pages/{page['id']}", headers=admin54).json()["token_permissions"]
    stored = secrets().get_secret_value(SecretId=f"{get_settings().stack_name}/vk/{page['id']}")
    assert stored["SecretString"] == TOKEN


def test_a_token_vk_refuses_is_422_naming_the_field(
    client: TestClient, admin54: dict[str, str], page: dict[str, Any], fake_vk: str
) -> None:
    httpx.post(f"{fake_vk}/failures", json={"method": "groups.getTokenPermissions", "errors": [5]})
    answer = client.put(f"/registry/pages/{page['id']}/vk-token", json={"access_token": TOKEN}, headers=admin54)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "access_token" and "invalid or revoked" in answer.json()["message"]
    assert client.get(f"/registry/pages/{page['id']}", headers=admin54).json()["has_access_token"] is False


def test_vk_unavailable_is_503_and_nothing_is_stored(
    client: TestClient, admin54: dict[str, str], page: dict[str, Any], fake_vk: str
) -> None:
    httpx.post(f"{fake_vk}/failures", json={"method": "groups.getTokenPermissions", "errors": [10] * 4})
    wiring.reset()
    from services.registry import bootstrap

    bootstrap.vk_api().backoff_seconds = 0.0
    answer = client.put(f"/registry/pages/{page['id']}/vk-token", json={"access_token": TOKEN}, headers=admin54)
    assert answer.status_code == 503
    assert client.get(f"/registry/pages/{page['id']}", headers=admin54).json()["has_access_token"] is False


def test_who_may_set_a_token(
    client: TestClient,
    auth_header: Callable[..., dict[str, str]],
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
    page: dict[str, Any],
) -> None:
    body = {"access_token": TOKEN}
    url = f"/registry/pages/{page['id']}/vk-token"
    assert client.put(url, json=body, headers=auth_header("operator", "54")).status_code == 403
    assert client.put(url, json=body, headers=auth_header("portal", "54")).status_code == 403
    assert client.put(url, json=body, headers=auth_header("regional_admin", "77")).status_code == 403
    own = auth_header("institution_admin", "54", page["institution_id"])
    assert client.put(url, json=body, headers=own).status_code == 200
    ok_page = create_page(create_institution()["id"], platform="ok", group_id=None, url="https://ok.ru/group/1")
    refused = client.put(f"/registry/pages/{ok_page['id']}/vk-token", json=body, headers=auth_header("federal_admin"))
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "access_token"
    for bad in ("", "vk1.a.токен", "vk1 a"):
        refused = client.put(url, json={"access_token": bad}, headers=auth_header("federal_admin"))
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "access_token"
