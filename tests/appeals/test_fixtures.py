"""Every fixture is VKCOM's schema shape plus only the extras vk-callback.md §3 documents."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from services.appeals.handlers import VK_EVENT_HANDLERS
from tests.appeals.conftest import EVENTS_DIR

SCHEMA_DIR = Path(__file__).resolve().parent / "vk-schema"
ENVELOPE = "callback/objects.json#/definitions/callback_base"
COMMENT = "wall/objects.json#/definitions/wall_wall_comment"
POST = "wall/objects.json#/definitions/wall_wallpost"
DEFINITIONS = {
    "wall_reply_new": COMMENT,
    "wall_reply_edit": COMMENT,
    "wall_reply_restore": COMMENT,
    "wall_reply_delete": "callback/objects.json#/definitions/callback_wall_comment_delete",
    "board_post_new": "board/objects.json#/definitions/board_topic_comment",
    "board_post_delete": "callback/objects.json#/definitions/callback_board_post_delete",
    "photo_comment_new": "callback/objects.json#/definitions/callback_photo_comment",
    "photo_comment_delete": "callback/objects.json#/definitions/callback_photo_comment_delete",
    "video_comment_new": "callback/objects.json#/definitions/callback_video_comment",
    "video_comment_delete": "callback/objects.json#/definitions/callback_video_comment_delete",
    "market_comment_new": "callback/objects.json#/definitions/callback_market_comment",
    "market_comment_delete": "callback/objects.json#/definitions/callback_market_comment_delete",
    "message_new": "callback/objects.json#/definitions/callback_message_object",
    "message_reply": "messages/objects.json#/definitions/messages_message",
    "message_edit": "messages/objects.json#/definitions/messages_message",
    "wall_post_new": POST,
    "wall_repost": POST,
    "group_join": "callback/objects.json#/definitions/callback_group_join",
    "group_leave": "callback/objects.json#/definitions/callback_group_leave",
    "like_add": "callback/objects.json#/definitions/callback_like_add_remove",
    "like_remove": "callback/objects.json#/definitions/callback_like_add_remove",
}
for _family in ("board_post", "photo_comment", "video_comment", "market_comment"):
    for _action in ("edit", "restore"):
        DEFINITIONS[f"{_family}_{_action}"] = DEFINITIONS[f"{_family}_new"]
# vk-callback.md §2/§3: documented fields the schema lacks, and schema-"required" fields real payloads omit.
EXTRAS = {
    "wall_reply": {"post_owner_id"},
    "wall_reply_delete": {"deleter_id"},
    "board_post": {"topic_id", "topic_owner_id"},
    "market_comment": {"item_id", "market_owner_id", "owner_id"},
    "photo_comment": {"photo_id"},
    "video_comment": {"video_id"},
    "wall_repost": {"copy_history"},
}
OPTIONAL = {"wall_reply_delete": {"user_id"}, "video_comment_delete": {"user_id"}, "posts": {"inner_type"}}
MESSAGE_OPTIONAL = {"version"}


@cache
def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    return document


def _definition(ref: str) -> dict[str, Any]:
    path, _, pointer = ref.partition("#")
    node: Any = _document("/".join(path.split("/")[-2:]))  # every $ref is "../<section>/objects.json#/..."
    for key in pointer.strip("/").split("/"):
        node = node[key]
    return dict(node)


def shape(ref: str) -> tuple[dict[str, Any], set[str]]:
    """(properties, required names) of a definition, following ``$ref`` and ``allOf``."""
    node = _definition(ref)
    properties: dict[str, Any] = {}
    required: set[str] = set()
    for part in ([node] if "$ref" in node else []) + node.get("allOf", []):
        sub_properties, sub_required = shape(part["$ref"]) if "$ref" in part else _own(part)
        properties.update(sub_properties)
        required |= sub_required
    own_properties, own_required = _own(node)
    properties.update(own_properties)
    return properties, required | own_required


def _own(node: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    properties = node.get("properties", {})
    return properties, {key for key, value in properties.items() if value.get("required") is True}


def _fixtures() -> list[Path]:
    return sorted(EVENTS_DIR.glob("*.json"))


def test_there_is_a_fixture_for_every_handled_type() -> None:
    types = {json.loads(path.read_text(encoding="utf-8"))["type"] for path in _fixtures()}
    assert set(VK_EVENT_HANDLERS) <= types
    assert "confirmation" in types


@pytest.mark.parametrize("path", _fixtures(), ids=lambda path: path.stem)
def test_fixture_uses_the_schema_field_names(path: Path) -> None:
    envelope = json.loads(path.read_text(encoding="utf-8"))
    envelope_properties, _ = shape(ENVELOPE)
    assert set(envelope) - {"object"} <= set(envelope_properties)
    event_type = envelope["type"]
    if event_type == "confirmation":
        return
    obj = envelope["object"]
    family = event_type.rpartition("_")[0]
    properties, required = shape(DEFINITIONS[event_type])
    if event_type == "message_new" and "message" not in obj:  # the bare message of API versions before 5.103
        properties, required = shape("messages/objects.json#/definitions/messages_message")
    if event_type == "message_new" and "message" in obj:
        inner, inner_required = shape("callback/objects.json#/definitions/callback_message")
        assert set(obj["message"]) <= set(inner)
        assert inner_required - MESSAGE_OPTIONAL <= set(obj["message"])
    extras = EXTRAS.get(event_type, set()) | EXTRAS.get(family, set())
    assert set(obj) - set(properties) <= extras, f"fields not in the schema: {set(obj) - set(properties) - extras}"
    optional = OPTIONAL.get(event_type, set()) | OPTIONAL["posts"] | MESSAGE_OPTIONAL
    assert required - optional <= set(obj), f"required fields missing: {required - optional - set(obj)}"
