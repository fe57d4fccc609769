"""A fake VK API for the local stack, mounted at ``/_local/vk``.

``POST /_local/vk/method/{name}`` records the call and answers VK-shaped JSON. For the reply methods
(``wall``/``board``/``photos``/``video``/``market.createComment`` and ``messages.send``) it also does what VK does
next: it posts the callback the community's reply produces (``wall_reply_new``, ``board_post_new``, ... or
``message_reply``, with ``from_id = -group_id``) to the stack's own ``/vk/callback``, signed with the secret the caller
passed (``secret``) or the one registered through ``POST /_local/vk/secrets``. Like VK, a repeated ``guid`` (comments)
or ``random_id`` (messages) of the same community returns the first answer and sends no second callback.

``POST /_local/vk/failures`` makes the next calls of a method fail with the given VK error codes, in order (error 6
then success; a permanent 15). ``GET /_local/vk/calls`` lists the recorded calls (access tokens dropped).
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


class FailureInjection(BaseModel):
    """The next calls of ``method`` answer these VK error codes, one call each, then calls succeed again."""

    method: str
    errors: list[int]


ERROR_MESSAGES = {
    5: "User authorization failed: invalid access_token",
    6: "Too many requests per second",
    7: "Permission to perform this action is denied",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied",
    29: "Rate limit reached",
    901: "Can't send messages for users without permission",
}


class FakeVk:
    """Recorded calls, registered secrets, pending failures, idempotency keys and id counters of one local stack."""

    def __init__(self, callback_url: str) -> None:
        self.callback_url = callback_url
        self.calls: list[dict[str, Any]] = []
        self.secrets: dict[int, str] = {}
        self.failures: dict[str, list[int]] = {}
        self.answered: dict[tuple[str, str], dict[str, Any]] = {}
        self._ids = itertools.count(100_000)
        self._conversation: dict[tuple[int, int], int] = {}
        self._lock = threading.Lock()

    def inject(self, method: str, errors: list[int]) -> None:
        """Fail the next calls of ``method`` with ``errors``, in order."""
        with self._lock:
            self.failures.setdefault(method, []).extend(errors)

    def pending_failure(self, method: str) -> int | None:
        """The error code the next call of ``method`` must fail with, if one was injected."""
        with self._lock:
            queued = self.failures.get(method)
            return queued.pop(0) if queued else None

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


def _missing(*names: str) -> tuple[dict[str, Any], None]:
    return _error(100, f"One of the parameters specified was missing or invalid: {', '.join(names)}"), None


def _create_comment(vk: FakeVk, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    owner_id, post_id = _int(params, "owner_id"), _int(params, "post_id")
    if owner_id is None or post_id is None or owner_id >= 0:
        return _missing("owner_id", "post_id")
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


def _create_board_comment(vk: FakeVk, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    group_id, topic_id = _int(params, "group_id"), _int(params, "topic_id")
    if group_id is None or topic_id is None or group_id <= 0:
        return _missing("group_id", "topic_id")
    comment_id = vk.next_id()
    obj = {
        "id": comment_id,
        "from_id": -group_id,
        "date": int(time.time()),
        "text": params.get("message", ""),
        "topic_id": topic_id,
        "topic_owner_id": -group_id,
    }
    return {"response": comment_id}, _envelope("board_post_new", group_id, obj)


def _object_comment(event_type: str, object_name: str) -> Any:
    """``photos``/``video``/``market.createComment``: a comment on a community's photo, video or market item."""

    def create(vk: FakeVk, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        owner_id, object_id = _int(params, "owner_id"), _int(params, f"{object_name}_id")
        if owner_id is None or object_id is None or owner_id >= 0:
            return _missing("owner_id", f"{object_name}_id")
        comment_id = vk.next_id()
        owner_field = "market_owner_id" if object_name == "item" else f"{object_name}_owner_id"
        obj = {
            "id": comment_id,
            "from_id": owner_id,
            "date": int(time.time()),
            "text": params.get("message", ""),
            f"{object_name}_id": object_id,
            owner_field: owner_id,
            **({"reply_to_comment": reply} if (reply := _int(params, "reply_to_comment")) else {}),
        }
        return {"response": comment_id}, _envelope(event_type, -owner_id, obj)

    return create


def _send_message(vk: FakeVk, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    group_id, peer_id = _int(params, "group_id"), _int(params, "peer_id")
    if group_id is None or peer_id is None or params.get("random_id") in (None, ""):
        return _missing("group_id", "peer_id", "random_id")
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


def _token_permissions(_: FakeVk, __: dict[str, Any]) -> tuple[dict[str, Any], None]:
    """What a community token may do: a local token is granted messages, wall, photos, docs and manage."""
    names = ("messages", "wall", "photos", "docs", "manage")
    bits = {"messages": 4096, "wall": 8192, "photos": 4, "docs": 131072, "manage": 262144}
    permissions = [{"name": name, "setting": bits[name]} for name in names]
    return {"response": {"mask": sum(bits.values()), "permissions": permissions}}, None


METHODS = {
    "wall.createComment": _create_comment,
    "board.createComment": _create_board_comment,
    "photos.createComment": _object_comment("photo_comment_new", "photo"),
    "video.createComment": _object_comment("video_comment_new", "video"),
    "market.createComment": _object_comment("market_comment_new", "item"),
    "messages.send": _send_message,
    "groups.getById": _get_by_id,
    "groups.getTokenPermissions": _token_permissions,
}
_IDEMPOTENCY_KEYS = {"messages.send": "random_id"} | {
    name: "guid" for name in METHODS if name.endswith("createComment")
}


def _idempotency_key(name: str, params: dict[str, Any]) -> tuple[str, str] | None:
    """VK answers a repeated ``guid`` / ``random_id`` of the same community with the first result."""
    field = _IDEMPOTENCY_KEYS.get(name)
    value = params.get(field) if field else None
    if value in (None, ""):
        return None
    community = params.get("group_id") or params.get("owner_id") or params.get("peer_id")
    return name, f"{community}:{value}"


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
        method, key = METHODS.get(name), _idempotency_key(name, params)
        callback: dict[str, Any] | None = None
        if (failure := vk.pending_failure(name)) is not None:
            answer = _error(failure, ERROR_MESSAGES.get(failure, "Unknown error occurred"))
        elif key is not None and key in vk.answered:
            answer = vk.answered[key]
        elif method is None:
            answer = _error(3, "Unknown method passed")
        else:
            answer, callback = method(vk, params)
            if key is not None and "response" in answer:
                vk.answered[key] = answer
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

    @router.post("/failures", status_code=204)
    def inject_failures(injection: FailureInjection) -> None:
        vk.inject(injection.method, injection.errors)

    return router
