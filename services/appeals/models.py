"""Appeals domain and API models (pydantic only: the ingest worker imports them, so no FastAPI here)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AppealStatus = Literal["new", "answered"]
AppealKind = Literal["appeal"]
SourceType = Literal["wall", "board", "photo", "video", "market", "message"]
Actor = Literal["author", "community"]
DeletedBy = Actor
HistoryAction = Literal["created", "edited", "deleted", "restored", "answered"]


class AppealModel(BaseModel):
    """Base of appeal models: unknown stored attributes are ignored."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)


class AppealSource(AppealModel):
    """Where the appeal was written in VK: a comment (thread + ``comment_id``) or a message (dialog + number)."""

    type: SourceType
    group_id: int
    owner_id: int | None = None
    post_id: int | None = None
    topic_id: int | None = None
    photo_id: int | None = None
    video_id: int | None = None
    item_id: int | None = None
    comment_id: int | None = None
    peer_id: int | None = None
    conversation_message_id: int | None = None


class AppealAttachment(AppealModel):
    """A photo, video, document, link, ... attached in VK: its type, the ids and link VK shows publicly."""

    type: str
    owner_id: int | None = None
    id: int | None = None
    url: str | None = Field(default=None, description="Where VK shows it: a link's own URL or the vk.com address")


class AppealReply(AppealModel):
    """The community's first answer to the appeal, as VK delivered it."""

    text: str
    sent_at: datetime
    comment_id: int | None = None
    message_id: int | None = None
    conversation_message_id: int | None = None
    admin_author_id: int | None = None


class HistoryEntry(AppealModel):
    """One change of the appeal: its text versions, deletion and restoration in VK, its status changes."""

    action: HistoryAction
    at: datetime
    text: str | None = None
    by: Actor | None = None
    old_status: AppealStatus | None = None
    new_status: AppealStatus | None = None


class Appeal(AppealModel):
    """A citizen's comment or message addressed to an official page; every instant in the region's zone."""

    id: str
    page_id: str
    institution_id: str
    region_code: str
    source: AppealSource
    author_id: int
    text: str
    attachments: list[AppealAttachment] = Field(default_factory=list)
    received_at: datetime = Field(description="VK's time of the comment, with the region's UTC offset")
    status: AppealStatus
    kind: AppealKind
    rubric: str | None = None
    due_at: datetime | None = Field(default=None, description="Response deadline (set by the SLA issue)")
    first_response_at: datetime | None = None
    response_working_minutes: int | None = Field(
        default=None, description="Working minutes to the first response (computed by the SLA issue; null until then)"
    )
    response_elapsed_minutes: int | None = Field(
        default=None, description="Calendar minutes from the appeal to the first response (not working time)"
    )
    deleted: bool = False
    deleted_by: DeletedBy | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    reply: AppealReply | None = None


class AppealFilters(AppealModel):
    """Filters of ``GET /appeals``."""

    region: str | None = Field(default=None, pattern=r"^\d{2}$")
    institution_id: str | None = None
    page_id: str | None = None
    status: AppealStatus | None = None
    kind: AppealKind | None = None
    rubric: str | None = None
    overdue: bool | None = None
    received_from: date | datetime | None = Field(default=None, description="A day starts in the region's zone")
    received_to: date | datetime | None = Field(default=None, description="A day is included up to its end")


class AppealPage(AppealModel):
    """One page of appeals, newest first; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[Appeal]
    next_cursor: str | None = None
