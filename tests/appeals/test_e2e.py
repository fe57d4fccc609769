"""End to end over HTTP on the local stack: registry event -> projection -> webhook -> ingest -> read API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from services.appeals.bootstrap import repository
from services.appeals.vk import message_key, stable_id
from shared.events import make_event
from shared.vk_secret import hash_secret, new_salt
from tests.appeals.conftest import GROUP_ID, SECRET, load_event, page_upserted
from tests.conftest import wait_for
from tooling.local import keys
from tooling.local.stack import LocalStack


def _http(stack: LocalStack, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(f"{stack.base_url}{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read().decode(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


@pytest.fixture(scope="module")
def stack(local_stack: LocalStack) -> LocalStack:
    """The local stack with the fixtures' page projected from a registry event on the appeals queue."""
    from shared.aws import sqs

    event = make_event("registry", page_upserted())
    sqs().send_message(
        QueueUrl=local_stack.template.queue_urls["AppealsRegistryEventsQueue"], MessageBody=event.model_dump_json()
    )
    wait_for(lambda: repository().read_page_by_group(GROUP_ID))
    return local_stack


@pytest.fixture(scope="module")
def token(stack: LocalStack) -> str:
    return keys.issue_token(stack.state_dir, role="regional_admin", region="54")


def _appeal(stack: LocalStack, token: str, appeal_id: str) -> Any:
    status, body = _http(stack, "GET", f"/appeals/{appeal_id}", token=token)
    return body if status == 200 else None


def test_confirmation_and_comment_from_webhook_to_get_appeal(stack: LocalStack, token: str) -> None:
    assert _http(stack, "POST", "/vk/callback", load_event("confirmation")) == (200, "d8v2ve07")
    envelope = load_event("wall_reply_new")
    assert _http(stack, "POST", "/vk/callback", envelope) == (200, "ok")
    appeal_id = stable_id(f"wall:{-GROUP_ID}:310:312")
    appeal = wait_for(lambda: _appeal(stack, token, appeal_id))
    assert (appeal["status"], appeal["kind"], appeal["text"]) == ("new", "appeal", envelope["object"]["text"])
    assert appeal["received_at"] == "2021-02-25T18:03:14+07:00"
    status, listed = _http(stack, "GET", "/appeals", token=token)
    assert status == 200 and appeal_id in {item["id"] for item in listed["items"]}


def test_fake_vk_echoes_community_replies_that_answer_appeals(stack: LocalStack, token: str) -> None:
    comment = load_event("wall_reply_new", id=900, text="Когда отремонтируют крыльцо поликлиники?")
    _http(stack, "POST", "/vk/callback", comment)
    comment_appeal = stable_id(f"wall:{-GROUP_ID}:310:900")
    wait_for(lambda: _appeal(stack, token, comment_appeal))
    params = {"owner_id": -GROUP_ID, "post_id": 310, "from_group": GROUP_ID, "message": "Ремонт в мае."}
    status, answer = _http(
        stack, "POST", "/_local/vk/method/wall.createComment", {**params, "reply_to_comment": 900, "secret": SECRET}
    )
    assert status == 200 and answer["response"]["parents_stack"] == [900]
    answered = wait_for(lambda: (a := _appeal(stack, token, comment_appeal)) and a["first_response_at"] and a)
    assert answered["reply"]["text"] == "Ремонт в мае."
    assert answered["reply"]["comment_id"] == answer["response"]["comment_id"]

    message = load_event("message_new")
    _http(stack, "POST", "/vk/callback", message)
    peer = message["object"]["message"]["peer_id"]
    dialog_appeal = stable_id(message_key(group_id=GROUP_ID, peer_id=peer, conversation_message_id=127))
    wait_for(lambda: _appeal(stack, token, dialog_appeal))
    assert _http(stack, "POST", "/_local/vk/secrets", {"group_id": GROUP_ID, "secret": SECRET})[0] == 204
    send = {"group_id": GROUP_ID, "peer_id": peer, "random_id": 77, "message": "Вывезем завтра."}
    assert _http(stack, "POST", "/_local/vk/method/messages.send", send)[0] == 200
    wait_for(lambda: (a := _appeal(stack, token, dialog_appeal)) and a["status"] == "answered")

    status, calls = _http(stack, "GET", "/_local/vk/calls")
    assert [call["method"] for call in calls][-2:] == ["wall.createComment", "messages.send"]
    assert all(call["callback"] == {"status": 200, "body": "ok"} for call in calls[-2:])
    assert all("access_token" not in call["params"] for call in calls)


def test_an_event_we_cannot_use_is_recorded_as_rejected_not_dead_lettered(stack: LocalStack) -> None:
    unusable = load_event("wall_reply_new")
    unusable["event_id"] = "unusable"
    del unusable["object"]["from_id"]
    dead_letters = stack.queue_depths()["IngestDLQ"]["visible"]
    assert _http(stack, "POST", "/vk/callback", unusable) == (200, "ok"), "VK gets ok: the event is ours to judge"
    seen = wait_for(lambda: repository().read_seen_event(group_id=GROUP_ID, event_id="unusable"))
    assert seen["outcome"] == "rejected" and "from_id" in seen.get("reason", "")
    wait_for(lambda: stack.queue_depths()["IngestQueue"] == {"visible": 0, "in_flight": 0})
    assert stack.queue_depths()["IngestDLQ"]["visible"] == dead_letters


def test_poison_message_reaches_the_dead_letter_queue(stack: LocalStack) -> None:
    from shared.aws import sqs

    sqs().send_message(QueueUrl=stack.template.queue_urls["IngestQueue"], MessageBody="not what the webhook writes")
    wait_for(lambda: stack.queue_depths()["IngestDLQ"]["visible"] >= 1, timeout=60)
    assert stack.queue_depths()["IngestQueue"]["visible"] == 0


def test_demo_replays_a_stream_the_stack_accepts(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from shared.aws import sqs
    from tooling.cli import demo
    from tooling.local.seed import DEMO_PAGES

    for number, demo_page in enumerate(DEMO_PAGES):
        salt = new_salt()
        page = page_upserted(
            page_id=f"demo-{number}",
            group_id=demo_page.group_id,
            secret_salt=salt,
            secret_hash=hash_secret(demo_page.secret, salt),
        )
        queue_url = stack.template.queue_urls["AppealsRegistryEventsQueue"]
        sqs().send_message(QueueUrl=queue_url, MessageBody=make_event("registry", page).model_dump_json())
    wait_for(lambda: all(repository().read_page_by_group(p.group_id) for p in DEMO_PAGES))
    dead_letters = stack.queue_depths()["IngestDLQ"]["visible"]
    args = argparse.Namespace(url=stack.base_url, count=30, seed=3, delay=0.0)
    assert demo.run(args) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "  HTTP " in line]
    assert len(lines) == 30 and all("HTTP 200" in line for line in lines)
    wait_for(lambda: stack.queue_depths()["IngestQueue"] == {"visible": 0, "in_flight": 0})
    assert stack.queue_depths()["IngestDLQ"]["visible"] == dead_letters
