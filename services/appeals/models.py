"""Appeals domain and API models (pydantic only: the ingest worker imports them, so no FastAPI here)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AppealStatus = Literal["new", "answered"]
AppealKind = Literal["appeal"]
SourceType = Literal["wall", "board", "photo", "video", "market", "message"]
DeletedBy = Literal["author", "community"]
HistoryAction = Literal["created", "edited", "deleted", "restored"]


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


class AppealReply(AppealModel):
    """The community's first answer to the appeal, as VK delivered it."""

    text: str
    sent_at: datetime
    comment_id: int | None = None
    message_id: int | None = None
    conversation_message_id: int | None = None
    admin_author_id: int | None = None


class HistoryEntry(AppealModel):
    """One change of the appeal in VK: its text versions, deletion and restoration."""

    action: HistoryAction
    at: datetime
    text: str | None = None
    by: DeletedBy | None = None


class Appeal(AppealModel):
    """A citizen's comment or message addressed to an official page."""

    id: str
    page_id: str
    institution_id: str
    region_code: str
    source: AppealSource
    author_id: int
    text: str
    received_at: datetime = Field(description="VK's time of the comment, with the region's UTC offset")
    status: AppealStatus
    kind: AppealKind
    rubric: str | None = None
    due_at: datetime | None = Field(default=None, description="Response deadline (null when none applies)")
    first_response_at: datetime | None = None
    response_working_minutes: int | None = Field(
        default=None, description="Working minutes to the first response (null while not computed)"
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
    received_from: datetime | None = None
    received_to: datetime | None = None


class AppealPage(AppealModel):
    """One page of appeals, newest first; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[Appeal]
    next_cursor: str | None = None
