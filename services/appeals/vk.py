"""VK Callback payloads, parsed leniently (extra fields ignored, optional ones may be missing), and natural keys.

Field names follow VKCOM's schema (``callback/objects.json``) plus the documented extras it lacks
(``post_owner_id``, ``topic_id``/``topic_owner_id``, ``item_id``, ``deleter_id``), see vk-callback.md §3.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

APPEAL_NAMESPACE = uuid.UUID("6f1d3c52-8b0e-4d59-9a57-3b1f0c4e2a10")


class VkModel(BaseModel):
    """Base of VK payloads: unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


class VkComment(VkModel):
    """A comment on a wall post, photo, video, market item or board topic (``*_new/_edit/_restore``)."""

    id: int
    from_id: int
    date: int
    text: str = ""
    owner_id: int | None = None
    post_id: int | None = None
    post_owner_id: int | None = None
    topic_id: int | None = None
    topic_owner_id: int | None = None
    photo_id: int | None = None
    photo_owner_id: int | None = None
    video_id: int | None = None
    video_owner_id: int | None = None
    item_id: int | None = None
    market_owner_id: int | None = None
    parents_stack: list[int] = Field(default_factory=list)
    reply_to_comment: int | None = None


class VkCommentDelete(VkModel):
    """A deleted comment: ``deleter_id`` (VK docs) or ``user_id`` (VKCOM schema) names who deleted it."""

    id: int
    owner_id: int | None = None
    post_id: int | None = None
    topic_id: int | None = None
    topic_owner_id: int | None = None
    photo_id: int | None = None
    video_id: int | None = None
    item_id: int | None = None
    deleter_id: int | None = None
    user_id: int | None = None

    @property
    def deleted_by(self) -> int | None:
        return self.deleter_id if self.deleter_id is not None else self.user_id


class VkMessage(VkModel):
    """A private or chat message (``message_new`` object's ``message``, or ``message_reply``'s object)."""

    id: int = 0
    conversation_message_id: int
    date: int
    from_id: int
    peer_id: int
    out: int = 0
    text: str = ""
    admin_author_id: int | None = None

    @field_validator("out", mode="before")
    @classmethod
    def _bool_to_int(cls, value: Any) -> Any:
        return int(value) if isinstance(value, bool) else value


def parse_message_new(obj: dict[str, Any]) -> VkMessage:
    """``message_new``'s message in either shape: ``{message, client_info}`` (v ≥ 5.103) or the bare message."""
    inner = obj.get("message")
    return VkMessage.model_validate(inner if isinstance(inner, dict) else obj)


class VkPost(VkModel):
    """A wall post or repost (``wall_post_new``/``wall_repost``)."""

    id: int | None = None
    from_id: int | None = None
    owner_id: int | None = None
    date: int | None = None
    post_type: str | None = None


class VkMembership(VkModel):
    """``group_join`` (``join_type``) or ``group_leave`` (``self``)."""

    user_id: int | None = None
    join_type: str | None = None


class VkLike(VkModel):
    """``like_add``/``like_remove``."""

    liker_id: int | None = None
    object_type: str | None = None
    object_owner_id: int | None = None
    object_id: int | None = None


@dataclass(frozen=True, slots=True)
class CommentFamily:
    """Where a comment type lives: its source name and the fields naming the owner and the commented object."""

    source: str
    parent_field: str
    owner_fields: tuple[str, ...]
    parent_fallbacks: tuple[str, ...] = ()


COMMENT_FAMILIES = {
    "wall_reply": CommentFamily("wall", "post_id", ("post_owner_id", "owner_id")),
    "board_post": CommentFamily("board", "topic_id", ("topic_owner_id", "owner_id")),
    "photo_comment": CommentFamily("photo", "photo_id", ("photo_owner_id", "owner_id")),
    "video_comment": CommentFamily("video", "video_id", ("video_owner_id", "owner_id")),
    # VKCOM's schema puts the market item id in ``photo_id``; VK's docs say ``item_id``.
    "market_comment": CommentFamily("market", "item_id", ("market_owner_id", "owner_id"), ("photo_id",)),
}


@dataclass(frozen=True, slots=True)
class CommentRef:
    """A comment's place: family, owner, commented object, comment id - its natural key."""

    source: str
    owner_id: int
    parent_field: str
    parent_id: int
    comment_id: int

    @property
    def thread(self) -> str:
        """The commented object (post, topic, photo, video, item): the thread replies are matched in."""
        return f"{self.source}:{self.owner_id}:{self.parent_id}"

    @property
    def natural_key(self) -> str:
        return f"{self.thread}:{self.comment_id}"


def comment_ref(family: CommentFamily, obj: VkComment | VkCommentDelete, *, group_id: int) -> CommentRef:
    """The natural key of a comment (the owner defaults to the community the event was sent for)."""
    fields = obj.model_dump()
    owner = next((fields[name] for name in family.owner_fields if fields.get(name) is not None), -group_id)
    parent = fields.get(family.parent_field)
    for fallback in family.parent_fallbacks:
        parent = parent if parent is not None else fields.get(fallback)
    if parent is None:
        raise ValueError(f"{family.source} comment without {family.parent_field}")
    return CommentRef(family.source, int(owner), family.parent_field, int(parent), obj.id)


def message_key(*, group_id: int, peer_id: int, conversation_message_id: int) -> str:
    """The natural key of a message: the community's dialog with ``peer_id`` and the message's number in it."""
    return f"message:{group_id}:{peer_id}:{conversation_message_id}"


def dialog_thread(*, group_id: int, peer_id: int) -> str:
    """The dialog a message belongs to: the thread replies are matched in."""
    return f"message:{group_id}:{peer_id}"


def stable_id(natural_key: str) -> str:
    """A deterministic id for a natural key (the same comment always maps to the same appeal)."""
    return str(uuid.uuid5(APPEAL_NAMESPACE, natural_key))


def vk_time(date: int) -> datetime:
    """A VK unix timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(date, tz=UTC)
