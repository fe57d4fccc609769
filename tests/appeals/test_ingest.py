"""Ingest worker: one effect per VK event, for every handled type, through retries, redeliveries and crashes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.appeals import bootstrap, service, webhook
from services.appeals.models import Appeal, AppealFilters
from shared.auth import Principal, Role
from shared.events import PageUpserted, parse_event
from shared.logs import RedactingFormatter
from tests.appeals.conftest import CITIZEN_ID, GROUP_ID, load_event, queued

Deliver = Callable[..., dict[str, Any]]
Receive = Callable[[str], list[dict[str, Any]]]
FEDERAL = Principal(sub="federal", role=Role.FEDERAL_ADMIN)
COMMENT_FAMILIES = ["wall_reply", "board_post", "photo_comment", "video_comment", "market_comment"]
NO_FAILURES = {"batchItemFailures": []}


def stored_appeals() -> list[Appeal]:
    filters = AppealFilters(region="54")
    found = service.list_appeals(
        repository=bootstrap.repository(), principal=FEDERAL, filters=filters, limit=100, cursor=None
    )
    return found.items


def the_appeal() -> Appeal:
    [appeal] = stored_appeals()
    return appeal


def changes(appeal: Appeal) -> list[str]:
    """The appeal's history actions but its classification entries."""
    return [entry.action for entry in appeal.history if entry.action not in ("classified", "reclassified")]


def activities(receive: Receive) -> list[Any]:
    """The activity the metrics queue got (appeal events left out)."""
    events = [parse_event(message["Body"]) for message in receive("ActivityQueue")]
    return [event.body.payload for event in events if event.type == "activity.recorded"]


@pytest.fixture(autouse=True)
def _page(vk_page: PageUpserted) -> None:
    del vk_page


@pytest.mark.parametrize("family", COMMENT_FAMILIES)
def test_citizen_comment_becomes_an_appeal(deliver: Deliver, receive: Receive, family: str) -> None:
    envelope = load_event(f"{family}_new")
    assert deliver(envelope) == NO_FAILURES
    appeal = the_appeal()
    obj = envelope["object"]
    assert (appeal.status, appeal.kind) == ("new", "appeal")
    assert appeal.due_at is not None and appeal.due_at > appeal.received_at and not appeal.replies
    assert appeal.rubric is not None and appeal.triage is not None and appeal.triage.kind == "appeal"
    assert (appeal.page_id, appeal.institution_id, appeal.region_code) == ("page-1", "inst-1", "54")
    assert appeal.author_id == CITIZEN_ID and appeal.text == obj["text"]
    assert appeal.source.group_id == GROUP_ID and appeal.source.comment_id == obj["id"]
    assert appeal.source.owner_id == -GROUP_ID
    assert appeal.received_at.utcoffset().total_seconds() == 7 * 3600, "Novosibirsk time"  # type: ignore[union-attr]
    assert int(appeal.received_at.timestamp()) == obj["date"]
    assert [entry.action for entry in appeal.history] == ["created", "classified"]
    [activity] = activities(receive)
    assert (activity.kind, activity.page_id, activity.group_id) == ("comment", "page-1", GROUP_ID)


def test_source_names_the_commented_object() -> None:
    expected = {
        "wall_reply": ("wall", "post_id", 310),
        "board_post": ("board", "topic_id", 47700001),
        "photo_comment": ("photo", "photo_id", 457350091),
        "video_comment": ("video", "video_id", 456239017),
        "market_comment": ("market", "item_id", 1234567),
    }
    from services.appeals.vk import COMMENT_FAMILIES as FAMILIES
    from services.appeals.vk import VkComment, comment_ref

    for family, (source, field, value) in expected.items():
        ref = comment_ref(FAMILIES[family], VkComment(**load_event(f"{family}_new")["object"]), group_id=GROUP_ID)
        assert (ref.source, ref.parent_field, ref.parent_id) == (source, field, value)


@pytest.mark.parametrize("family", COMMENT_FAMILIES)
def test_edit_keeps_history_delete_marks_who_and_restore_undoes(deliver: Deliver, family: str) -> None:
    deliver(load_event(f"{family}_new"))
    edited = load_event(f"{family}_edit")
    deliver(edited)
    appeal = the_appeal()
    assert appeal.text == edited["object"]["text"]
    assert changes(appeal) == ["created", "edited"]
    [edit] = [entry for entry in appeal.history if entry.action == "edited"]
    assert edit.text == edited["object"]["text"]

    deliver(load_event(f"{family}_delete"))
    appeal = the_appeal()
    expected_by = {"video_comment": "community", "board_post": "community"}.get(family, "author")
    assert (appeal.deleted, appeal.deleted_by) == (True, expected_by)

    deliver(load_event(f"{family}_restore"))
    appeal = the_appeal()
    assert (appeal.deleted, appeal.deleted_by) == (False, None)
    assert changes(appeal) == ["created", "edited", "deleted", "restored"]


def test_an_edit_seen_before_its_comment_creates_the_appeal_once(deliver: Deliver) -> None:
    deliver(load_event("wall_reply_edit"))
    deliver(load_event("wall_reply_new"))
    appeal = the_appeal()
    assert appeal.text == load_event("wall_reply_edit")["object"]["text"]


@pytest.mark.parametrize("name", ["message_new", "message_new_legacy"])
def test_citizen_message_becomes_an_appeal_in_both_shapes(deliver: Deliver, receive: Receive, name: str) -> None:
    envelope = load_event(name)
    message = envelope["object"].get("message", envelope["object"])
    deliver(envelope)
    appeal = the_appeal()
    assert appeal.source.type == "message"
    assert (appeal.source.peer_id, appeal.source.conversation_message_id) == (
        message["peer_id"],
        message["conversation_message_id"],
    )
    assert appeal.text == message["text"]
    assert [a.kind for a in activities(receive)] == ["message"]


def test_event_id_may_be_a_number(deliver: Deliver) -> None:
    envelope = load_event("message_new")
    envelope["event_id"] = 12345
    deliver(envelope, envelope)
    assert len(stored_appeals()) == 1


def test_same_event_delivered_six_times_with_retry_counters_is_one_appeal(ingest: Deliver, receive: Receive) -> None:
    client = TestClient(webhook.app)
    envelope = load_event("wall_reply_new")
    for counter in range(6):
        headers = {"X-Retry-Counter": str(counter)} if counter else {}
        assert client.post("/vk/callback", json=envelope, headers=headers).text == "ok"
    messages = receive("IngestQueue")
    assert sorted(json.loads(m["Body"])["retry_counter"] or 0 for m in messages) == [0, 1, 2, 3, 4, 5]
    assert ingest(messages[:3]) == NO_FAILURES
    assert ingest(messages[3:]) == NO_FAILURES
    assert len(stored_appeals()) == 1
    assert {a.activity_id for a in activities(receive)} == {f"vk:wall:{-GROUP_ID}:310:312"}


def test_same_comment_under_another_event_id_is_one_appeal(deliver: Deliver) -> None:
    first = load_event("wall_reply_new")
    second = {**load_event("wall_reply_new"), "event_id": "another-server-event"}
    deliver(first, second)
    assert len(stored_appeals()) == 1


def test_worker_crash_after_a_partial_batch_is_redelivered_without_duplicates(
    ingest: Deliver, receive: Receive, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = [queued(load_event("wall_reply_new", id=1000 + n, text=f"вопрос {n}")) for n in range(6)]
    record = service.record_appeal
    calls = {"n": 0}

    def crash_on_the_fourth(**kwargs: Any) -> bool:
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("worker crashed")
        return record(**kwargs)

    monkeypatch.setattr(service, "record_appeal", crash_on_the_fourth)
    result = ingest(batch)
    assert [item["itemIdentifier"] for item in result["batchItemFailures"]] == [batch[3]["MessageId"]]
    assert len(stored_appeals()) == 5
    monkeypatch.setattr(service, "record_appeal", record)
    assert ingest(batch) == NO_FAILURES, "the whole batch comes back, as after a crash"
    assert len(stored_appeals()) == 6
    assert len({a.activity_id for a in activities(receive)}) == 6


def test_activity_publish_failure_fails_the_batch_and_the_retry_counts_once(
    ingest: Deliver, receive: Receive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.appeals import ingest as worker

    batch = [queued(load_event("message_new")), queued(load_event("like_add"))]

    def down(*_: Any, **__: Any) -> None:
        raise RuntimeError("queue down")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(worker, "publish", down)
        ingest(batch)
    assert ingest(batch) == NO_FAILURES
    assert len(stored_appeals()) == 1
    assert sorted(a.kind for a in activities(receive)) == ["like_add", "message"]


def test_community_reply_answers_the_appeal_and_is_not_an_appeal(deliver: Deliver, receive: Receive) -> None:
    deliver(load_event("wall_reply_new"))
    reply = load_event("wall_reply_new_community")
    deliver(reply, reply)
    appeal = the_appeal()
    assert appeal.status == "answered"
    assert appeal.first_response_at is not None
    assert int(appeal.first_response_at.timestamp()) == reply["object"]["date"]
    assert appeal.first_response_at.utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]
    assert appeal.reply is not None and appeal.reply.text == reply["object"]["text"]
    assert appeal.reply.comment_id == 315
    assert (appeal.response_working_minutes, appeal.answered_within_sla) == (0, True), "after 18:00: no working time"
    assert appeal.response_elapsed_minutes == (1614251100 - 1614250994) // 60
    assert [a.kind for a in activities(receive)] == ["comment"], "the reply is no citizen activity"


def test_top_level_community_comments_answer_the_earliest_unanswered_appeals_in_order(deliver: Deliver) -> None:
    deliver(
        load_event("wall_reply_new", id=400, date=1614250000), load_event("wall_reply_new", id=401, date=1614250100)
    )
    community: dict[str, Any] = {"from_id": -GROUP_ID, "parents_stack": [], "reply_to_comment": None}
    deliver(load_event("wall_reply_new", id=500, date=1614253000, **community))
    answered = {a.source.comment_id: a.reply.comment_id if a.reply else None for a in stored_appeals()}
    assert answered == {400: 500, 401: None}
    deliver(load_event("wall_reply_new", id=501, date=1614254000, **community))
    answered = {a.source.comment_id: a.reply.comment_id if a.reply else None for a in stored_appeals()}
    assert answered == {400: 500, 401: 501}


def test_a_second_reply_to_an_answered_comment_keeps_the_first_response(deliver: Deliver) -> None:
    deliver(load_event("wall_reply_new"), load_event("wall_reply_new", id=313, parents_stack=[312]))
    deliver(load_event("wall_reply_new_community"))
    deliver(load_event("wall_reply_new_community", id=316, date=1614259999))
    by_comment = {a.source.comment_id: a for a in stored_appeals()}
    assert by_comment[312].reply is not None and by_comment[312].reply.comment_id == 315
    assert by_comment[313].status == "new", "a reply to comment 312 does not answer its sibling"


def test_message_reply_answers_the_dialog(deliver: Deliver) -> None:
    deliver(load_event("message_new"), load_event("message_new_legacy"))
    deliver(load_event("message_reply"))
    by_number = {a.source.conversation_message_id: a for a in stored_appeals()}
    assert by_number[127].status == "answered" and by_number[131].status == "new"
    assert by_number[127].reply is not None and by_number[127].reply.admin_author_id == 1234


def test_answering_writes_the_status_change_to_the_history(deliver: Deliver) -> None:
    deliver(load_event("wall_reply_new"))
    deliver(load_event("wall_reply_new_community"))
    appeal = the_appeal()
    assert [entry.action for entry in appeal.history] == ["created", "classified", "answered"]
    answered = appeal.history[-1]
    assert (answered.by, answered.old_status, answered.new_status) == ("community", "new", "answered")
    assert answered.at == appeal.first_response_at and answered.text is None


def test_a_citizen_edits_a_message_the_appeal_follows_and_keeps_the_history(deliver: Deliver) -> None:
    deliver(load_event("message_new"))
    edited = load_event("message_edit")
    deliver(edited, edited)
    appeal = the_appeal()
    assert appeal.text == edited["object"]["text"]
    assert [(entry.action, entry.text) for entry in appeal.history if entry.text is not None] == [
        ("created", load_event("message_new")["object"]["message"]["text"]),
        ("edited", edited["object"]["text"]),
    ]


def test_a_message_edit_seen_before_its_message_creates_the_appeal_once(deliver: Deliver, receive: Receive) -> None:
    deliver(load_event("message_edit"))
    deliver(load_event("message_new"))
    appeal = the_appeal()
    assert appeal.text == load_event("message_edit")["object"]["text"]
    assert [a.kind for a in activities(receive)] == ["message"], "an edit is no new activity"


def test_the_communitys_own_message_edits_are_not_appeals(deliver: Deliver) -> None:
    reply = load_event("message_reply")
    deliver({**reply, "type": "message_edit", "event_id": "community-edit"})
    assert stored_appeals() == []


PHOTO = {
    "type": "photo",
    "photo": {
        "id": 457239017,
        "owner_id": CITIZEN_ID,
        "album_id": -15,
        "access_key": "f6d1f2a3b4c5",
        "date": 1586054790,
        "sizes": [{"type": "x", "url": "https://sun9-1.userapi.com/photo.jpg", "width": 604, "height": 453}],
    },
}
LINK = {"type": "link", "link": {"url": "https://www.gosuslugi.ru/help", "title": "Госуслуги"}}
STICKER = {"type": "sticker", "sticker": {"sticker_id": 9, "product_id": 1}}
KEPT_ATTACHMENTS = [
    {"type": "photo", "owner_id": CITIZEN_ID, "id": 457239017, "url": f"https://vk.com/photo{CITIZEN_ID}_457239017"},
    {"type": "link", "owner_id": None, "id": None, "url": "https://www.gosuslugi.ru/help"},
    {"type": "sticker", "owner_id": None, "id": None, "url": None},
]


def test_an_attachment_only_message_keeps_its_attachments_without_access_keys(deliver: Deliver) -> None:
    envelope = load_event("message_new")
    envelope["object"]["message"] |= {"text": "", "attachments": [PHOTO, LINK, STICKER]}
    deliver(envelope)
    appeal = the_appeal()
    assert appeal.text == ""
    assert [attachment.model_dump() for attachment in appeal.attachments] == KEPT_ATTACHMENTS
    dumped = appeal.model_dump_json()
    assert "access_key" not in dumped and "f6d1f2a3b4c5" not in dumped and "userapi" not in dumped


def test_comment_attachments_are_kept_and_follow_edits(deliver: Deliver) -> None:
    deliver(load_event("wall_reply_new", text="", attachments=[PHOTO]))
    assert [a.type for a in the_appeal().attachments] == ["photo"]
    deliver(load_event("wall_reply_edit", attachments=[LINK]))
    appeal = the_appeal()
    assert [(a.type, a.url) for a in appeal.attachments] == [("link", "https://www.gosuslugi.ru/help")]
    assert changes(appeal) == ["created", "edited"]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("wall_post_new", "post"),
        ("wall_repost", "repost"),
        ("group_join", "join"),
        ("group_leave", "leave"),
        ("like_add", "like_add"),
        ("like_remove", "like_remove"),
    ],
)
def test_community_activity_reaches_the_activity_queue(
    deliver: Deliver, receive: Receive, name: str, kind: str
) -> None:
    envelope = load_event(name)
    deliver(envelope, envelope)
    found = activities(receive)
    assert {(a.kind, a.activity_id) for a in found} == {(kind, f"vk:{GROUP_ID}:{envelope['event_id']}")}
    assert (found[0].page_id, found[0].institution_id, found[0].region_code) == ("page-1", "inst-1", "54")
    assert stored_appeals() == []


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("group_join", {"join_type": "request"}),
        ("like_add", {"liker_id": -GROUP_ID}),
        ("wall_post_new", {"post_type": "suggest", "from_id": CITIZEN_ID}),
        ("wall_post_new", {"post_type": "postpone"}),
    ],
)
def test_non_member_joins_own_likes_and_unpublished_posts_are_not_counted(
    deliver: Deliver, receive: Receive, name: str, change: dict[str, Any]
) -> None:
    deliver(load_event(name, **change))
    assert activities(receive) == []


def test_unknown_types_unknown_groups_and_other_communities_are_acknowledged_and_ignored(
    deliver: Deliver, receive: Receive
) -> None:
    unknown_type = {"type": "message_typing_state", "event_id": "t1", "group_id": GROUP_ID, "object": {}}
    unknown_group = {**load_event("wall_reply_new"), "group_id": 1}
    other_community = load_event("wall_reply_new", from_id=-1)
    assert deliver(unknown_type, unknown_group, other_community) == NO_FAILURES
    assert stored_appeals() == [] and activities(receive) == []


def test_malformed_objects_are_acknowledged_and_recorded_as_rejected(deliver: Deliver) -> None:
    broken = load_event("wall_reply_new")
    del broken["object"]["from_id"]
    result = deliver(broken, load_event("message_new"))
    assert result == NO_FAILURES, "an event we cannot use is no infrastructure failure: it is not retried"
    assert len(stored_appeals()) == 1
    seen = bootstrap.repository().read_seen_event(group_id=GROUP_ID, event_id=broken["event_id"])
    assert seen is not None and (seen["type"], seen["outcome"]) == ("wall_reply_new", "rejected")
    assert "from_id" in seen.get("reason", "")


def test_no_comment_text_or_vk_user_id_in_logs(deliver: Deliver, caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    json_lines = logging.StreamHandler(stream)
    json_lines.setFormatter(RedactingFormatter())
    appeals_logger = logging.getLogger("appeals")
    appeals_logger.addHandler(json_lines)
    caplog.set_level(logging.DEBUG, logger="appeals")
    try:
        client = TestClient(webhook.app)
        envelopes = [load_event(name) for name in ("wall_reply_new", "message_new", "wall_reply_new_community")]
        for envelope in envelopes:
            client.post("/vk/callback", json=envelope)
        client.post("/vk/callback", json={**envelopes[0], "secret": "wrong"})
        broken = load_event("wall_reply_new")
        del broken["object"]["id"]
        deliver(*envelopes, broken, {**load_event("message_new"), "group_id": 77})
    finally:
        appeals_logger.removeHandler(json_lines)
    output = stream.getvalue() + caplog.text
    assert "callback with a missing or wrong secret" in output and "dropped" in output
    for envelope in envelopes:
        obj = envelope["object"].get("message", envelope["object"])
        assert obj["text"] not in output
    assert str(CITIZEN_ID) not in output
    assert "s3cr3t" not in output and "wrong" not in output.replace("missing or wrong secret", "")
