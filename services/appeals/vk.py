"""VK Callback payloads, parsed leniently (extra fields ignored, optional ones may be missing), and natural keys.

Field names follow VKCOM's schema (``callback/objects.json``) plus the documented extras it lacks
(``post_owner_id``, ``topic_id``/``topic_owner_id``, ``item_id``, ``deleter_id``), see vk-callback.md §3. Every id
is bounded (``shared.vk_ids``) and every date within ``MAX_VK_DATE``: an object that does not fit is an
``UnusableEvent`` with a reason naming the fields (never their values), acknowledged instead of retried.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.appeals.queued import UnusableEvent
from shared.vk_ids import MAX_VK_ID, OwnerId, VkId

APPEAL_NAMESPACE = uuid.UUID("6f1d3c52-8b0e-4d59-9a57-3b1f0c4e2a10")
MAX_VK_DATE = 4_102_444_800  # 2100-01-01T00:00:00Z
MAX_URL_CHARS = 2048
MAX_REPORTED_PROBLEMS = 3
LINKED_ATTACHMENTS = frozenset({"photo", "video", "audio", "doc", "wall", "market", "poll"})

VkDate = Annotated[int, Field(ge=0, le=MAX_VK_DATE)]
"""A VK unix timestamp within this century."""

MessageId = Annotated[int, Field(ge=0, le=MAX_VK_ID)]
"""A message id (``0`` in community chats, where only the conversation number counts)."""

Model = TypeVar("Model", bound=BaseModel)


class VkModel(BaseModel):
    """Base of VK payloads: unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)


class VkAttachment(VkModel):
    """An attachment as VK shows it publicly: its type, the attached object's ids, a link's URL (no access key)."""

    type: str = Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")
    owner_id: OwnerId | None = None
    id: VkId | None = None
    url: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_vk(cls, value: Any) -> Any:
        """VK nests the object under its type (``{"type": "photo", "photo": {...}}``); keep only public ids."""
        if not isinstance(value, dict):
            return value
        kind = value.get("type")
        inner = value.get(kind) if isinstance(kind, str) else None
        inner = inner if isinstance(inner, dict) else {}
        url = inner.get("url") if kind == "link" else None
        public_url = isinstance(url, str) and len(url) <= MAX_URL_CHARS and url.startswith(("https://", "http://"))
        return {
            "type": kind,
            "owner_id": inner.get("owner_id"),
            "id": inner.get("id"),
            "url": url if public_url else None,
        }

    @property
    def link(self) -> str | None:
        """Where VK shows the attached object: the link itself, or ``https://vk.com/<type><owner>_<id>``."""
        if self.url is not None:
            return self.url
        if self.type in LINKED_ATTACHMENTS and self.owner_id is not None and self.id is not None:
            return f"https://vk.com/{self.type}{self.owner_id}_{self.id}"
        return None


class VkComment(VkModel):
    """A comment on a wall post, photo, video, market item or board topic (``*_new/_edit/_restore``)."""

    id: VkId
    from_id: OwnerId
    date: VkDate
    text: str = ""
    owner_id: OwnerId | None = None
    post_id: VkId | None = None
    post_owner_id: OwnerId | None = None
    topic_id: VkId | None = None
    topic_owner_id: OwnerId | None = None
    photo_id: VkId | None = None
    photo_owner_id: OwnerId | None = None
    video_id: VkId | None = None
    video_owner_id: OwnerId | None = None
    item_id: VkId | None = None
    market_owner_id: OwnerId | None = None
    parents_stack: list[VkId] = Field(default_factory=list)
    reply_to_comment: VkId | None = None
    attachments: list[VkAttachment] = Field(default_factory=list)


class VkCommentDelete(VkModel):
    """A deleted comment: ``deleter_id`` (VK docs) or ``user_id`` (VKCOM schema) names who deleted it."""

    id: VkId
    owner_id: OwnerId | None = None
    post_id: VkId | None = None
    topic_id: VkId | None = None
    topic_owner_id: OwnerId | None = None
    photo_id: VkId | None = None
    video_id: VkId | None = None
    item_id: VkId | None = None
    deleter_id: OwnerId | None = None
    user_id: OwnerId | None = None

    @property
    def deleted_by(self) -> int | None:
        return self.deleter_id if self.deleter_id is not None else self.user_id


class VkMessage(VkModel):
    """A private or chat message: ``message_new``'s ``message``, or the object of ``message_reply``/``_edit``."""

    id: MessageId = 0
    conversation_message_id: VkId
    date: VkDate
    from_id: OwnerId
    peer_id: OwnerId
    out: int = 0
    text: str = ""
    admin_author_id: VkId | None = None
    attachments: list[VkAttachment] = Field(default_factory=list)

    @field_validator("out", mode="before")
    @classmethod
    def _bool_to_int(cls, value: Any) -> Any:
        return int(value) if isinstance(value, bool) else value


class VkPost(VkModel):
    """A wall post or repost (``wall_post_new``/``wall_repost``)."""

    id: VkId | None = None
    from_id: OwnerId | None = None
    owner_id: OwnerId | None = None
    date: VkDate | None = None
    post_type: str | None = None


class VkMembership(VkModel):
    """``group_join`` (``join_type``) or ``group_leave`` (``self``)."""

    user_id: OwnerId | None = None
    join_type: str | None = None


class VkLike(VkModel):
    """``like_add``/``like_remove``."""

    liker_id: OwnerId | None = None
    object_type: str | None = None
    object_owner_id: OwnerId | None = None
    object_id: VkId | None = None


def parse(model: type[Model], obj: dict[str, Any]) -> Model:
    """``obj`` as ``model``, or ``UnusableEvent`` naming the fields that do not fit (never their values)."""
    try:
        return model.model_validate(obj)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc']) or 'object'}: {problem['type']}"
            for problem in error.errors()[:MAX_REPORTED_PROBLEMS]
        ]
        raise UnusableEvent(f"unexpected object ({', '.join(problems)})") from None


def parse_message(obj: dict[str, Any]) -> VkMessage:
    """A message in either shape: ``{message, client_info}`` (``message_new`` since v5.103) or the bare message."""
    inner = obj.get("message")
    return parse(VkMessage, inner if isinstance(inner, dict) else obj)


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
        raise UnusableEvent(f"{family.source} comment without {family.parent_field}")
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
