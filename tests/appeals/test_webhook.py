"""``POST /vk/callback``: the VK answer matrix, queueing, and the bodies VK must never see."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient

from services.appeals import webhook
from services.appeals.repository import AppealsRepository, PageRef
from shared import wiring
from shared.events import PageUpserted, make_event
from tests.appeals.conftest import GROUP_ID, SECRET, load_event, page_upserted

Receive = Callable[[str], list[dict[str, Any]]]


@pytest.fixture
def client(vk_page: PageUpserted) -> TestClient:
    del vk_page
    return TestClient(webhook.app)


def _post(client: TestClient, body: Any, **headers: str) -> Any:
    content = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    return client.post("/vk/callback", content=content, headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        "null",
        json.dumps({"group_id": GROUP_ID, "secret": SECRET}),
        json.dumps({"type": "", "group_id": GROUP_ID}),
        json.dumps({"type": "wall_reply_new"}),
        json.dumps({"type": "wall_reply_new", "group_id": "club1"}),
        json.dumps({"type": "wall_reply_new", "group_id": -GROUP_ID}),
        json.dumps({"type": "wall_reply_new", "group_id": True}),
    ],
)
def test_malformed_envelopes_are_400(client: TestClient, body: str) -> None:
    response = _post(client, body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "change",
    [
        {"group_id": 1},
        {"secret": "wrong"},
        {"secret": None},
        {"secret": 12345},
    ],
)
def test_unknown_group_and_missing_or_wrong_secret_are_403(client: TestClient, receive: Receive, change: Any) -> None:
    envelope = {**load_event("wall_reply_new"), **change}
    if envelope["secret"] is None:
        del envelope["secret"]
    response = _post(client, envelope)
    assert (response.status_code, response.text) in {(403, "forbidden"), (403, "bad secret")}
    assert receive("IngestQueue") == []


def test_confirmation_answers_the_code_as_the_whole_body(client: TestClient) -> None:
    response = _post(client, load_event("confirmation"))
    assert (response.status_code, response.text) == (200, "d8v2ve07")
    assert response.headers["content-type"].startswith("text/plain")


def test_confirmation_without_a_secret_is_answered_for_a_known_group_but_a_wrong_secret_is_not(
    client: TestClient,
) -> None:
    assert _post(client, {"type": "confirmation", "group_id": GROUP_ID}).text == "d8v2ve07"
    assert _post(client, {"type": "confirmation", "group_id": GROUP_ID, "secret": "x"}).status_code == 403
    assert _post(client, {"type": "confirmation", "group_id": 42}).status_code == 403


def test_event_is_queued_with_retry_counter_and_receipt_time_then_ok(client: TestClient, receive: Receive) -> None:
    envelope = load_event("wall_reply_new")
    response = _post(client, envelope, **{"X-Retry-Counter": "2"})
    assert (response.status_code, response.text) == (200, "ok")
    assert response.headers["content-type"].startswith("text/plain")
    [message] = receive("IngestQueue")
    body = json.loads(message["Body"])
    assert body["retry_counter"] == 2
    assert body["received_at"].endswith("+00:00")
    expected = {key: value for key, value in envelope.items() if key != "secret"}
    assert body["envelope"] == expected, "the raw envelope is kept, minus the secret"
    assert message["MessageAttributes"]["type"]["StringValue"] == "wall_reply_new"


def test_unknown_event_types_are_queued_and_acknowledged(client: TestClient, receive: Receive) -> None:
    envelope = {"type": "message_typing_state", "event_id": "e1", "v": "5.199", "object": {}, "group_id": GROUP_ID}
    response = _post(client, {**envelope, "secret": SECRET})
    assert response.text == "ok"
    assert len(receive("IngestQueue")) == 1


def test_queue_failure_is_503_with_retry_after(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")

    from shared.aws import sqs

    monkeypatch.setattr(sqs(), "send_message", refuse)
    response = _post(client, load_event("wall_reply_new"))
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.text == "unavailable"


def test_oversized_body_is_413(client: TestClient) -> None:
    envelope = load_event("wall_reply_new", text="ы" * 200_000)
    assert _post(client, envelope).status_code == 413


@pytest.mark.parametrize("code", ["remove", "REMOVE", "version 5.131", "version"])
def test_a_confirmation_code_vk_would_read_as_a_command_is_refused(
    run_projection: Callable[..., Any], code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_projection(make_event("registry", page_upserted(confirmation_code=code)))
    response = _post(TestClient(webhook.app), load_event("confirmation"))
    assert response.status_code in (403, 503)
    assert response.text != "remove" and not response.text.lower().startswith("version")
    assert code not in capsys.readouterr().out


def test_no_answer_is_ever_a_vk_command(client: TestClient, receive: Receive) -> None:
    bodies = [
        "remove",
        "version 5.131",
        {"type": "remove", "group_id": GROUP_ID, "secret": SECRET},
        {"type": "version 5.131", "group_id": GROUP_ID, "secret": SECRET},
        {"type": "confirmation", "group_id": GROUP_ID, "secret": "remove"},
    ]
    for body in bodies:
        text = _post(client, body).text
        assert webhook.is_safe_body(text), text
    receive("IngestQueue")
    assert not webhook.is_safe_body(" Remove\n")
    assert not webhook.is_safe_body("version 5.199")


def test_archived_page_is_403(run_projection: Callable[..., Any], client: TestClient) -> None:
    from shared.events import PageArchived

    run_projection(
        make_event(
            "registry",
            PageArchived(page_id="page-1", institution_id="inst-1", region_code="54", platform="vk", revision=2),
        )
    )
    wiring.reset()  # a fresh process: nothing cached from before the archive
    assert _post(client, load_event("wall_reply_new")).status_code == 403
    assert _post(client, load_event("confirmation")).status_code == 403


def test_page_lookup_is_cached_per_table(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    tables: list[str] = []
    read = AppealsRepository.read_page_by_group

    def counted(repository: AppealsRepository, group_id: int) -> PageRef | None:
        calls.append(group_id)
        tables.append(repository.table)
        return read(repository, group_id)

    monkeypatch.setattr(AppealsRepository, "read_page_by_group", counted)
    for _ in range(3):
        assert _post(client, load_event("confirmation")).status_code == 200
    assert calls == [GROUP_ID]
    monkeypatch.setenv("GOSPUBLIKI_APPEALS_TABLE", "another-stack-appeals")
    wiring.reset()
    assert _post(client, load_event("confirmation")).status_code == 503, "another table is another cache entry"
    assert calls == [GROUP_ID, GROUP_ID]
    assert tables[1] == "another-stack-appeals" != tables[0]
