"""Every change publishes an event (reliably, via the outbox); callback secrets and tokens never leak."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.registry import publishing
from shared import wiring
from shared.config import get_settings
from shared.errors import UnavailableError
from shared.events import InstitutionUpserted, parse_event
from shared.vk_secret import secret_matches
from tests.registry.helpers import drain, institution_payload, page_payload

SECRET = "s3cr3t-callback-value-42"
TOKEN = "vk1.a.community-token-value"
CODE = "d8v2ve07"


def events_by_queue() -> list[list[dict[str, Any]]]:
    return [drain(url) for url in get_settings().registry_event_queue_urls]


def test_every_change_publishes_an_event(client: TestClient, federal: dict[str, str]) -> None:
    assert len(get_settings().registry_event_queue_urls) == 2
    institution = client.post("/registry/institutions", json=institution_payload(), headers=federal).json()
    client.patch(f"/registry/institutions/{institution['id']}", json={"short_name": "СОШ"}, headers=federal)
    body = {**page_payload(), "callback": {"confirmation_code": CODE, "secret": SECRET}}
    page = client.post(f"/registry/institutions/{institution['id']}/pages", json=body, headers=federal).json()
    client.patch(f"/registry/pages/{page['id']}", json={"category": "flagship"}, headers=federal)
    client.put(
        f"/registry/pages/{page['id']}/callback",
        json={"confirmation_code": "newcode1", "secret": SECRET + "x"},
        headers=federal,
    )
    client.patch(f"/registry/pages/{page['id']}", json={"status": "archived"}, headers=federal)

    for messages in events_by_queue():
        assert [m["body"]["type"] for m in messages] == ["institution.upserted"] * 2 + ["page.upserted"] * 3 + [
            "page.archived"
        ]
        assert all(m["producer"] == "registry" and m["body"]["version"] == 1 for m in messages)
        pages = [m["body"]["payload"] for m in messages if m["body"]["type"].startswith("page.")]
        assert [p["revision"] for p in pages] == [1, 2, 3, 4]
        created, _, rotated, _ = pages
        assert created["confirmation_code"] == CODE and created["group_id"] == page["group_id"]
        assert created["region_code"] == "54" and created["institution_id"] == institution["id"]
        assert secret_matches(SECRET, salt=created["secret_salt"], expected_hash=created["secret_hash"])
        assert rotated["confirmation_code"] == "newcode1"
        assert secret_matches(SECRET + "x", salt=rotated["secret_salt"], expected_hash=rotated["secret_hash"])
        assert not secret_matches(SECRET, salt=rotated["secret_salt"], expected_hash=rotated["secret_hash"])


def test_institution_event_carries_the_time_zone(client: TestClient, federal: dict[str, str]) -> None:
    body = institution_payload(time_zone="Asia/Vladivostok")
    institution = client.post("/registry/institutions", json=body, headers=federal).json()
    client.patch(f"/registry/institutions/{institution['id']}", json={"time_zone": None}, headers=federal)
    for messages in events_by_queue():
        assert [m["body"]["payload"]["time_zone"] for m in messages] == ["Asia/Vladivostok", None]
        payload = parse_event(json.dumps(messages[0])).body.payload
        assert isinstance(payload, InstitutionUpserted) and payload.time_zone == "Asia/Vladivostok"


def test_an_institution_event_without_a_time_zone_still_parses() -> None:
    """Events published before the field existed (still in queues or DLQs) read as "the region's zone"."""
    old = {
        "event_id": "e1",
        "occurred_at": "2026-01-10T10:00:00Z",
        "producer": "registry",
        "body": {
            "type": "institution.upserted",
            "version": 1,
            "payload": {
                "institution_id": "i1",
                "region_code": "54",
                "name": "Школа",
                "kind": "school",
                "level": "municipal",
                "spheres": ["education"],
                "revision": 3,
                "oktmo": "50701000",
            },
        },
    }
    payload = parse_event(json.dumps(old)).body.payload
    assert isinstance(payload, InstitutionUpserted) and payload.time_zone is None and payload.oktmo == "50701000"


def test_outbox_relay_republishes_after_a_failed_publish(
    client: TestClient, federal: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.registry import bootstrap, outbox
    from services.registry.records import now_iso
    from tooling.local.lambda_runtime import LambdaContext

    context = LambdaContext(function_name="RegistryOutboxFunction")

    real_publish = publishing.publish
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise UnavailableError("queue down")
        real_publish(*args, **kwargs)

    monkeypatch.setattr(publishing, "publish", flaky)
    created = client.post("/registry/institutions", json=institution_payload(), headers=federal)
    assert created.status_code == 201  # the change is committed even though publishing failed
    assert events_by_queue() == [[], []]
    pending = list(bootstrap.repository().outbox_before(now_iso()))
    assert len(pending) == 1

    # younger than 30 s: left to the request path
    assert publishing.relay(repository=bootstrap.repository()) == {"published": 0, "failed": 0}
    monkeypatch.setattr(publishing, "RELAY_AFTER_SECONDS", 0)
    result = outbox.handler({"scheduled_time": "2026-03-01T10:00:00Z", "execution_id": "run-1"}, context)
    assert result["execution_id"] == "run-1"
    for messages in events_by_queue():
        assert [m["body"]["payload"]["institution_id"] for m in messages] == [created.json()["id"]]
    assert outbox.handler({"scheduled_time": "2026-03-01T10:01:00Z", "execution_id": "run-2"}, context)["result"] == {
        "published": 0,
        "failed": 0,
    }


def test_secrets_never_leak(
    client: TestClient,
    federal: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    fake_vk: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shared.aws import secrets

    monkeypatch.setenv("GOSPUBLIKI_VK_API_URL", f"{fake_vk}/method")
    wiring.reset()
    institution = create_institution()
    body = {**page_payload(), "callback": {"confirmation_code": CODE, "secret": SECRET}}
    responses = [client.post(f"/registry/institutions/{institution['id']}/pages", json=body, headers=federal)]
    page = responses[0].json()
    token_url = f"/registry/pages/{page['id']}/vk-token"
    responses.append(client.put(token_url, json={"access_token": TOKEN}, headers=federal))
    assert page["callback_configured"] is True and responses[-1].json()["has_access_token"] is True
    rotate = {"confirmation_code": "zz99", "secret": SECRET[::-1]}
    responses += [
        client.put(f"/registry/pages/{page['id']}/callback", json=rotate, headers=federal),
        client.put(token_url, json={"access_token": TOKEN + "2"}, headers=federal),
        client.get(f"/registry/pages/{page['id']}", headers=federal),
        client.get("/registry/pages", headers=federal),
        client.patch(f"/registry/pages/{page['id']}", json={"category": "card"}, headers=federal),
        client.get("/registry/export", params={"region": "54", "format": "csv"}, headers=federal),
        client.get("/openapi/registry.json"),
        client.put(
            f"/registry/pages/{page['id']}/callback",
            json={"confirmation_code": "x", "secret": "tooShortSecret9"},
            headers=federal,
        ),
    ]
    assert responses[-1].status_code == 422
    stored = secrets().get_secret_value(SecretId=f"{get_settings().stack_name}/vk/{page['id']}")["SecretString"]
    assert stored == TOKEN + "2"
    logs = capsys.readouterr()
    texts = [r.text for r in responses] + [logs.out, logs.err, caplog.text]
    for value in (SECRET, SECRET[::-1], TOKEN, CODE, "zz99", "tooShortSecret9"):
        for text in texts:
            assert value not in text
    for key in ("secret_hash", "secret_salt", "confirmation_code", "access_token"):
        assert f'"{key}"' not in responses[4].text


def test_callback_only_for_vk(
    client: TestClient, federal: dict[str, str], create_institution: Callable[..., dict[str, Any]]
) -> None:
    institution = create_institution()
    page = client.post(
        f"/registry/institutions/{institution['id']}/pages",
        json={"platform": "ok", "url": "https://ok.ru/group/9"},
        headers=federal,
    ).json()
    response = client.put(
        f"/registry/pages/{page['id']}/callback", json={"confirmation_code": CODE, "secret": SECRET}, headers=federal
    )
    assert (
        response.status_code == 422 and response.json()["message"] == "callback: only VK pages have callback settings"
    )
