"""What each VK event type does: translate the payload, then call the appeals service once.

Each handler returns the activity the metrics service should count (or ``None``); the ingest worker publishes
activities in one batch per invocation. Activity ids are deterministic (natural key or ``group_id:event_id``),
so a re-published activity is counted once. An event whose payload does not fit (``UnusableEvent``) is recorded
as rejected with the reason by ``handle_event``, before any effect, and never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.appeals import bootstrap, service
from services.appeals.models import AppealReply, AppealSource
from services.appeals.queued import QueuedEvent, UnusableEvent
from services.appeals.repository import AttachmentRecord, PageRef
from services.appeals.service import CommunityReply, NewAppeal
from services.appeals.vk import (
    COMMENT_FAMILIES,
    CommentFamily,
    CommentRef,
    VkAttachment,
    VkComment,
    VkCommentDelete,
    VkLike,
    VkMembership,
    VkMessage,
    VkPost,
    comment_ref,
    dialog_thread,
    message_key,
    parse,
    parse_message,
    stable_id,
    vk_time,
)
from services.appeals.workflow import Effects
from shared.events import ActivityKind, ActivityRecorded
from shared.logs import get_logger

VkEventHandler = Callable[[QueuedEvent, PageRef, Effects | None], ActivityRecorded | None]
SKIPPED_POST_TYPES = frozenset({"suggest", "postpone"})

logger = get_logger("appeals")


def _family(event: QueuedEvent) -> CommentFamily:
    return COMMENT_FAMILIES[event.type.rpartition("_")[0]]


def _activity(*, page: PageRef, kind: ActivityKind, activity_id: str, occurred_at: datetime) -> ActivityRecorded:
    """An activity for the metrics service (no personal data)."""
    return ActivityRecorded(
        activity_id=activity_id,
        page_id=page.page_id,
        group_id=page.group_id,
        institution_id=page.institution_id,
        region_code=page.region_code,
        kind=kind,
        occurred_at=occurred_at,
    )


def _event_activity(event: QueuedEvent, page: PageRef, kind: ActivityKind, at: datetime) -> ActivityRecorded:
    return _activity(page=page, kind=kind, activity_id=f"vk:{page.group_id}:{event.event_id}", occurred_at=at)


def _attachments(attachments: list[VkAttachment]) -> list[AttachmentRecord]:
    """What an appeal keeps of VK attachments: type, public ids and link (no access keys, sizes or geo)."""
    kept: list[AttachmentRecord] = []
    for attachment in attachments:
        record: AttachmentRecord = {"type": attachment.type}
        if attachment.owner_id is not None:
            record["owner_id"] = attachment.owner_id
        if attachment.id is not None:
            record["id"] = attachment.id
        if attachment.link is not None:
            record["url"] = attachment.link
        kept.append(record)
    return kept


def _comment_appeal(event: QueuedEvent) -> tuple[VkComment, CommentRef, NewAppeal]:
    comment = parse(VkComment, event.object)
    ref = comment_ref(_family(event), comment, group_id=event.group_id)
    source = AppealSource.model_validate(
        {
            "type": ref.source,
            "group_id": event.group_id,
            "owner_id": ref.owner_id,
            ref.parent_field: ref.parent_id,
            "comment_id": ref.comment_id,
        }
    )
    root = comment.parents_stack[0] if comment.parents_stack else comment.reply_to_comment
    appeal = NewAppeal(
        natural_key=ref.natural_key,
        thread=ref.thread,
        root=root if root is not None else comment.id,
        source=source,
        author_id=comment.from_id,
        text=comment.text,
        date=comment.date,
        attachments=_attachments(comment.attachments),
    )
    return comment, ref, appeal


def on_comment_new(event: QueuedEvent, page: PageRef, effects: Effects | None = None) -> ActivityRecorded | None:
    """A citizen's comment becomes an appeal; the community's own comment answers one."""
    comment, ref, appeal = _comment_appeal(event)
    if comment.from_id == -event.group_id:
        reply_to = comment.reply_to_comment
        reply = CommunityReply(
            natural_key=ref.natural_key,
            thread=ref.thread,
            reply_to=f"{ref.thread}:{reply_to}" if reply_to is not None else None,
            root=comment.parents_stack[0] if comment.parents_stack else reply_to,
            reply=AppealReply(text=comment.text, sent_at=vk_time(comment.date), comment_id=comment.id),
            outbound_key=ref.natural_key,
        )
        service.answer_appeal(
            repository=bootstrap.repository(),
            page=page,
            reply=reply,
            event_id=event.event_id,
            event_type=event.type,
            effects=effects,
        )
        return None
    if comment.from_id <= 0:
        logger.info("comment by another community ignored", extra={"group_id": event.group_id, "type": event.type})
        return None
    service.record_appeal(
        repository=bootstrap.repository(),
        page=page,
        appeal=appeal,
        event_id=event.event_id,
        event_type=event.type,
        effects=effects,
    )
    return _activity(
        page=page, kind="comment", activity_id=f"vk:{appeal.natural_key}", occurred_at=vk_time(comment.date)
    )


def on_comment_edit(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> None:
    """A citizen edited a comment: new text, old versions kept."""
    comment, _, appeal = _comment_appeal(event)
    if comment.from_id > 0:
        service.edit_appeal(
            repository=bootstrap.repository(),
            page=page,
            appeal=appeal,
            event_id=event.event_id,
            event_type=event.type,
            edited_at=event.received_at,
        )


def on_comment_restore(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> None:
    """A deleted comment is back."""
    comment, _, appeal = _comment_appeal(event)
    if comment.from_id > 0:
        service.restore_appeal(
            repository=bootstrap.repository(),
            page=page,
            appeal=appeal,
            event_id=event.event_id,
            event_type=event.type,
            restored_at=event.received_at,
        )


def on_comment_delete(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> None:
    """A comment was deleted by its author or by the community."""
    deleted = parse(VkCommentDelete, event.object)
    ref = comment_ref(_family(event), deleted, group_id=event.group_id)
    service.delete_appeal(
        repository=bootstrap.repository(),
        page=page,
        appeal_id=stable_id(ref.natural_key),
        deleter_id=deleted.deleted_by,
        event_id=event.event_id,
        event_type=event.type,
        deleted_at=event.received_at,
    )


def _citizen_message(event: QueuedEvent) -> NewAppeal | None:
    """A citizen's incoming message as an appeal (``None`` for the community's own or another community's)."""
    message = parse_message(event.object)
    if message.out or message.from_id <= 0:
        return None
    return NewAppeal(
        natural_key=message_key(
            group_id=event.group_id, peer_id=message.peer_id, conversation_message_id=message.conversation_message_id
        ),
        thread=dialog_thread(group_id=event.group_id, peer_id=message.peer_id),
        root=None,
        source=AppealSource(
            type="message",
            group_id=event.group_id,
            peer_id=message.peer_id,
            conversation_message_id=message.conversation_message_id,
        ),
        author_id=message.from_id,
        text=message.text,
        date=message.date,
        attachments=_attachments(message.attachments),
    )


def on_message_new(event: QueuedEvent, page: PageRef, effects: Effects | None = None) -> ActivityRecorded | None:
    """A citizen's incoming message becomes an appeal (both ``message_new`` shapes)."""
    appeal = _citizen_message(event)
    if appeal is None:
        return None
    service.record_appeal(
        repository=bootstrap.repository(),
        page=page,
        appeal=appeal,
        event_id=event.event_id,
        event_type=event.type,
        effects=effects,
    )
    return _activity(
        page=page, kind="message", activity_id=f"vk:{appeal.natural_key}", occurred_at=vk_time(appeal.date)
    )


def on_message_edit(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> None:
    """A citizen edited a message: new text and attachments, old versions kept (an unseen one becomes an appeal)."""
    appeal = _citizen_message(event)
    if appeal is not None:
        service.edit_appeal(
            repository=bootstrap.repository(),
            page=page,
            appeal=appeal,
            event_id=event.event_id,
            event_type=event.type,
            edited_at=event.received_at,
        )


def on_message_reply(event: QueuedEvent, page: PageRef, effects: Effects | None = None) -> None:
    """The community's outgoing message answers the earliest unanswered appeal of the dialog."""
    message = parse(VkMessage, event.object)
    reply = CommunityReply(
        natural_key=message_key(
            group_id=event.group_id, peer_id=message.peer_id, conversation_message_id=message.conversation_message_id
        ),
        thread=dialog_thread(group_id=event.group_id, peer_id=message.peer_id),
        reply_to=None,
        root=None,
        reply=AppealReply(
            text=message.text,
            sent_at=vk_time(message.date),
            message_id=message.id or None,
            conversation_message_id=message.conversation_message_id,
            admin_author_id=message.admin_author_id,
        ),
        outbound_key=f"message:{event.group_id}:id:{message.id}" if message.id else None,
    )
    service.answer_appeal(
        repository=bootstrap.repository(),
        page=page,
        reply=reply,
        event_id=event.event_id,
        event_type=event.type,
        effects=effects,
    )


def on_wall_post_new(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> ActivityRecorded | None:
    """A published post by the community (not a suggested or scheduled one) counts as a post."""
    post = parse(VkPost, event.object)
    author = post.from_id if post.from_id is not None else post.owner_id
    if author != -event.group_id or post.post_type in SKIPPED_POST_TYPES:
        return None
    return _event_activity(event, page, "post", vk_time(post.date) if post.date else event.received_at)


def on_wall_repost(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> ActivityRecorded:
    """Someone reposted the community's post."""
    post = parse(VkPost, event.object)
    return _event_activity(event, page, "repost", vk_time(post.date) if post.date else event.received_at)


def on_group_join(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> ActivityRecorded | None:
    """A new member (an application, ``join_type: request``, is not one yet)."""
    membership = parse(VkMembership, event.object)
    return None if membership.join_type == "request" else _event_activity(event, page, "join", event.received_at)


def on_group_leave(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> ActivityRecorded:
    """A member left or was removed."""
    parse(VkMembership, event.object)
    return _event_activity(event, page, "leave", event.received_at)


def on_like(event: QueuedEvent, page: PageRef, _effects: Effects | None = None) -> ActivityRecorded | None:
    """A like added or removed (the community liking its own content does not count)."""
    like = parse(VkLike, event.object)
    if like.liker_id == -event.group_id:
        return None
    kind: ActivityKind = "like_add" if event.type == "like_add" else "like_remove"
    return _event_activity(event, page, kind, event.received_at)


_COMMENT_ACTIONS: dict[str, VkEventHandler] = {
    "new": on_comment_new,
    "edit": on_comment_edit,
    "delete": on_comment_delete,
    "restore": on_comment_restore,
}

VK_EVENT_HANDLERS: dict[str, VkEventHandler] = {
    **{f"{family}_{action}": handle for family in COMMENT_FAMILIES for action, handle in _COMMENT_ACTIONS.items()},
    "message_new": on_message_new,
    "message_edit": on_message_edit,
    "message_reply": on_message_reply,
    "wall_post_new": on_wall_post_new,
    "wall_repost": on_wall_repost,
    "group_join": on_group_join,
    "group_leave": on_group_leave,
    "like_add": on_like,
    "like_remove": on_like,
}


def handle_event(event: QueuedEvent, page: PageRef, effects: Effects | None = None) -> ActivityRecorded | None:
    """Apply one VK event of a handled type; one we cannot use is recorded as rejected with the reason."""
    try:
        return VK_EVENT_HANDLERS[event.type](event, page, effects)
    except UnusableEvent as unusable:
        service.reject_event(
            repository=bootstrap.repository(),
            page=page,
            event_id=event.event_id,
            event_type=event.type,
            reason=unusable.reason,
        )
        logger.warning(
            "VK event rejected", extra={"group_id": event.group_id, "type": event.type, "reason": unusable.reason}
        )
        return None
