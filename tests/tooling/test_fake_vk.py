"""The fake VK API: VK-shaped answers, echoed callbacks, idempotency keys and injected failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import wait_for
from tooling.local.fake_vk import create_router


@pytest.fixture
def received() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A callback receiver over HTTP and the envelopes it got."""
    envelopes: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            envelopes.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/vk/callback", envelopes
    server.shutdown()


@pytest.fixture
def vk(received: tuple[str, list[dict[str, Any]]]) -> TestClient:
    app = FastAPI()
    app.include_router(create_router(callback_url=received[0]))
    return TestClient(app)


@pytest.mark.parametrize(
    "method,params,event_type,object_field",
    [
        ("board.createComment", {"group_id": 5, "topic_id": 9}, "board_post_new", "topic_id"),
        ("photos.createComment", {"owner_id": -5, "photo_id": 9}, "photo_comment_new", "photo_id"),
        ("video.createComment", {"owner_id": -5, "video_id": 9}, "video_comment_new", "video_id"),
        ("market.createComment", {"owner_id": -5, "item_id": 9}, "market_comment_new", "item_id"),
    ],
)
def test_each_reply_method_echoes_the_callback_vk_sends(
    vk: TestClient,
    received: tuple[str, list[dict[str, Any]]],
    method: str,
    params: dict[str, Any],
    event_type: str,
    object_field: str,
) -> None:
    answer = vk.post(f"/_local/vk/method/{method}", data={**params, "message": "Ответ", "secret": "s"}).json()
    envelope = wait_for(lambda: received[1] and received[1][0])
    assert (envelope["type"], envelope["group_id"], envelope["secret"]) == (event_type, 5, "s")
    assert envelope["object"]["id"] == answer["response"] and envelope["object"]["from_id"] == -5
    assert envelope["object"][object_field] == 9


def test_a_repeated_guid_or_random_id_gets_the_first_answer_and_no_second_callback(
    vk: TestClient, received: tuple[str, list[dict[str, Any]]]
) -> None:
    comment = {"owner_id": -5, "post_id": 1, "message": "Ответ", "guid": "reply-1", "secret": "s"}
    first, again = (vk.post("/_local/vk/method/wall.createComment", data=comment).json() for _ in range(2))
    message = {"group_id": 5, "peer_id": 42, "random_id": 7, "message": "Ответ", "secret": "s"}
    sent, resent = (vk.post("/_local/vk/method/messages.send", data=message).json() for _ in range(2))
    assert first == again and sent == resent
    wait_for(lambda: len(received[1]) == 2)
    assert sorted(envelope["type"] for envelope in received[1]) == ["message_reply", "wall_reply_new"]


def test_injected_failures_come_first_then_calls_succeed(vk: TestClient) -> None:
    vk.post("/_local/vk/failures", json={"method": "messages.send", "errors": [6, 15]})
    message = {"group_id": 5, "peer_id": 42, "message": "Ответ"}
    codes = [
        vk.post("/_local/vk/method/messages.send", data={**message, "random_id": n}).json().get("error", {})
        for n in range(3)
    ]
    assert [code.get("error_code") for code in codes] == [6, 15, None]
    assert vk.post("/_local/vk/method/wall.createComment", data={"owner_id": -5, "post_id": 1}).json()["response"]


def test_token_permissions_and_bad_parameters(vk: TestClient) -> None:
    permissions = vk.post("/_local/vk/method/groups.getTokenPermissions").json()["response"]
    assert {"messages", "wall"} <= {item["name"] for item in permissions["permissions"]}
    assert vk.post("/_local/vk/method/board.createComment", data={"group_id": 5}).json()["error"]["error_code"] == 100
    assert vk.post("/_local/vk/method/no.such").json()["error"]["error_code"] == 3
