"""A fake VK API for the local stack, mounted at ``/_local/vk``.

``POST /_local/vk/method/{name}`` records the call and answers VK-shaped JSON. For ``wall.createComment`` and
``messages.send`` it also does what VK does next: it posts the callback the community's reply produces
(``wall_reply_new`` / ``message_reply`` with ``from_id = -group_id``) to the stack's own ``/vk/callback``, signed
with the secret the caller passed (``secret``) or the one registered through ``POST /_local/vk/secrets``.
``GET /_local/vk/calls`` lists the recorded calls (access tokens dropped).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

API_VERSION = "5.199"


class SecretRegistration(BaseModel):
    """The callback secret of a community, for the echoed callbacks."""

    group_id: int
    secret: str


class FakeVk:
    """Recorded calls, registered secrets and id counters of one local stack."""

    def __init__(self, callback_url: str) -> None:
        self.callback_url = callback_url
        self.calls: list[dict[str, Any]] = []
        self.secrets: dict[int, str] = {}
        self._ids = itertools.count(100_000)
        self._conversation: dict[tuple[int, int], int] = {}
        self._lock = threading.Lock()

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    def next_conversation_message_id(self, group_id: int, peer_id: int) -> int:
        with self._lock:
            number = self._conversation.get((group_id, peer_id), 10_000) + 1
            self._conversation[(group_id, peer_id)] = number
            return number

    def echo(self, envelope: dict[str, Any], call: dict[str, Any]) -> None:
        """Post the callback VK would send, and note VK's answer on the call."""
        request = urllib.request.Request(
            self.callback_url,
            data=json.dumps(envelope, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                call["callback"] = {"status": response.status, "body": response.read().decode()}
        except urllib.error.HTTPError as error:
            call["callback"] = {"status": error.code, "body": error.read().decode()}


def _int(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    return int(value) if value not in (None, "") else None


def _error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"error_code": code, "error_msg": message}}


def _create_comment(vk: FakeVk, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    owner_id, post_id = _int(params, "owner_id"), _int(params, "post_id")
    if owner_id is None or post_id is None or owner_id >= 0:
        return _error(100, "One of the parameters specified was missing or invalid: owner_id, post_id"), None
    group_id = -owner_id
    comment_id = vk.next_id()
    reply_to = _int(params, "reply_to_comment")
    parents = [reply_to] if reply_to else []
    obj = {
        "id": comment_id,
        "from_id": -group_id,
        "post_id": post_id,
        "owner_id": owner_id,
        "parents_stack": parents,
        "date": int(time.time()),
        "text": params.get("message", ""),
        "thread": {"count": 0},
        "post_owner_id": owner_id,
        **({"reply_to_comment": reply_to} if reply_to else {}),
    }
    return {"response": {"comment_id": comment_id, "parents_stack": parents}}, _envelope(
        "wall_reply_new", group_id, obj
    )


def _send_message(vk: FakeVk, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    group_id, peer_id = _int(params, "group_id"), _int(params, "peer_id")
    if group_id is None or peer_id is None or params.get("random_id") in (None, ""):
        return _error(100, "One of the parameters specified was missing or invalid: group_id, peer_id, random_id"), None
    message_id = vk.next_id()
    obj = {
        "date": int(time.time()),
        "from_id": -group_id,
        "id": message_id,
        "out": 1,
        "peer_id": peer_id,
        "text": params.get("message", ""),
        "conversation_message_id": vk.next_conversation_message_id(group_id, peer_id),
        "fwd_messages": [],
        "important": False,
        "random_id": _int(params, "random_id"),
        "attachments": [],
        "is_hidden": False,
    }
    return {"response": message_id}, _envelope("message_reply", group_id, obj)


def _get_by_id(_: FakeVk, params: dict[str, Any]) -> tuple[dict[str, Any], None]:
    ids = [int(value) for value in str(params.get("group_ids") or params.get("group_id") or "").split(",") if value]
    groups = [
        {"id": gid, "name": f"Сообщество {gid}", "screen_name": f"club{gid}", "type": "page", "members_count": 1000}
        for gid in ids
    ]
    return {"response": {"groups": groups, "profiles": []}}, None


METHODS = {"wall.createComment": _create_comment, "messages.send": _send_message, "groups.getById": _get_by_id}


def _envelope(event_type: str, group_id: int, obj: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "event_id": uuid.uuid4().hex, "v": API_VERSION, "object": obj, "group_id": group_id}


def create_router(*, callback_url: str) -> APIRouter:
    """The fake VK API's routes, echoing community replies to ``callback_url``."""
    vk = FakeVk(callback_url)
    router = APIRouter(prefix="/_local/vk", tags=["local: fake VK"])

    @router.post("/method/{name}")
    async def call_method(name: str, request: Request, background: BackgroundTasks) -> JSONResponse:
        params: dict[str, Any] = dict(request.query_params)
        if request.headers.get("content-type", "").startswith("application/json"):
            params.update(await request.json())
        else:
            params.update((await request.form()).items())
        secret = params.pop("secret", None)
        params.pop("access_token", None)
        method = METHODS.get(name)
        answer, callback = method(vk, params) if method else (_error(3, "Unknown method passed"), None)
        call: dict[str, Any] = {"method": name, "params": params, "response": answer}
        vk.calls.append(call)
        if callback is not None:
            secret = secret or vk.secrets.get(callback["group_id"])
            if secret:
                callback["secret"] = secret
            call["echo"] = callback["type"]
            background.add_task(vk.echo, callback, call)
        return JSONResponse(answer)

    @router.get("/calls")
    def list_calls(method: str | None = None) -> list[dict[str, Any]]:
        return [call for call in vk.calls if method is None or call["method"] == method]

    @router.post("/secrets", status_code=204)
    def register_secret(registration: SecretRegistration) -> None:
        vk.secrets[registration.group_id] = registration.secret

    return router
