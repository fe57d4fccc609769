"""Hostile input to the appeals service: every malformed or crafted value is a 4xx or a recorded rejection, never a
500, a 503 forever, or a message that fails into the dead-letter queue.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.appeals import bootstrap, webhook
from services.appeals.app import app
from shared import vk_secret
from shared.events import PageArchived, PageUpserted, make_event
from shared.vk_ids import MAX_VK_ID
from tests.appeals.conftest import CITIZEN_ID, GROUP_ID, SECRET, load_event, queued

Receive = Callable[[str], list[dict[str, Any]]]
Deliver = Callable[..., dict[str, Any]]
NO_FAILURES = {"batchItemFailures": []}


@pytest.fixture
def vk(vk_page: PageUpserted) -> TestClient:
    """The webhook, with the fixtures' community projected."""
    del vk_page
    return TestClient(webhook.app)


def _post(client: TestClient, content: str | bytes, **headers: str | bytes) -> Any:
    return client.post("/vk/callback", content=content, headers={"Content-Type": "application/json", **headers})


def _answer(client: TestClient, content: str | bytes) -> tuple[int, str]:
    response = _post(client, content)
    return response.status_code, response.text


def _comment(**object_fields: Any) -> dict[str, Any]:
    return load_event("wall_reply_new", **object_fields)


def _appeals(federal: dict[str, str]) -> list[dict[str, Any]]:
    response = TestClient(app).get("/appeals", params={"region": "54"}, headers=federal)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# ---------------------------------------------------------------- webhook: the envelope


BAD_GROUP_IDS = [
    "²",
    "12³",
    "١٢٣",
    "1" * 5000,
    "+192764727",
    " 192764727",
    "192764727.0",
    MAX_VK_ID + 1,
    0,
    1.5,
    None,
    [1],
    {},
]
BAD_BODIES = [
    '{"type": "wall_reply_new", "group_id": ' + "9" * 5000 + "}",
    '{"type": "wall_reply_new", "group_id": 192764727, "object": {"id": NaN}}',
    '{"type": "wall_reply_new", "group_id": 192764727, "object": {"date": Infinity}}',
    b'{"type": "wall_reply_new", "group_id": 192764727, "object": {"text": "\xff\xfe"}}',
    '{"type": "Wall_Reply_New", "group_id": 192764727}',
    '{"type": "wall reply new", "group_id": 192764727}',
    '{"type": "' + "x" * 65 + '", "group_id": 192764727}',
    '{"type": 5, "group_id": 192764727}',
]


def test_a_group_id_that_is_no_bounded_plain_decimal_is_400(vk: TestClient, receive: Receive) -> None:
    for group_id in BAD_GROUP_IDS:
        envelope = {**load_event("wall_reply_new"), "group_id": group_id}
        assert _answer(vk, json.dumps(envelope, ensure_ascii=False)) == (400, "bad request"), group_id
    assert receive("IngestQueue") == []


def test_numbers_types_and_bytes_that_are_no_json_we_accept_are_400(vk: TestClient) -> None:
    for raw in BAD_BODIES:
        assert _answer(vk, raw) == (400, "bad request"), raw[:80]


def test_deep_nesting_is_400(vk: TestClient, receive: Receive) -> None:
    for depth in (webhook.MAX_JSON_DEPTH, 900, 100_000):
        nested = "[" * depth + "]" * depth
        raw = f'{{"type": "wall_reply_new", "group_id": {GROUP_ID}, "secret": "{SECRET}", "object": {nested}}}'
        assert len(raw) <= webhook.MAX_BODY_BYTES
        assert _answer(vk, raw) == (400, "bad request"), depth
    assert receive("IngestQueue") == []


def test_nesting_within_the_limit_is_queued(vk: TestClient, receive: Receive) -> None:
    envelope = load_event("wall_reply_new")
    envelope["object"]["thread"] = json.loads("[" * 60 + "]" * 60)
    assert _post(vk, json.dumps(envelope)).text == "ok"
    assert len(receive("IngestQueue")) == 1


def test_an_odd_retry_counter_is_ignored(vk: TestClient, receive: Receive) -> None:
    for counter in ("²", "9" * 5000, "-1", "1.5", "", "١"):
        response = _post(vk, json.dumps(load_event("wall_reply_new")), **{"X-Retry-Counter": counter.encode()})
        assert (response.status_code, response.text) == (200, "ok")
        [message] = receive("IngestQueue")
        assert json.loads(message["Body"])["retry_counter"] is None, counter


def test_a_queued_message_sqs_would_refuse_as_too_large_is_413(vk: TestClient, receive: Receive) -> None:
    raw = json.dumps(_comment(text="a" * (webhook.MAX_QUEUED_BYTES - 200)))
    assert webhook.MAX_QUEUED_BYTES < len(raw.encode()) <= webhook.MAX_BODY_BYTES
    assert _answer(vk, raw) == (413, "too large")
    assert receive("IngestQueue") == []


# ---------------------------------------------------------------- webhook: text SQS, UTF-8 and DynamoDB refuse


def test_text_with_lone_surrogates_or_noncharacters_becomes_an_appeal(
    vk: TestClient, receive: Receive, ingest: Deliver, federal: dict[str, str]
) -> None:
    cases = {  # JSON escapes sent: the text stored
        "\\ud83d": "\ufffd",
        "\\ude00 и \\ud83d": "\ufffd и \ufffd",
        "\\uffff\\ufffe": "\ufffd\ufffd",
        "\\ud83d\\ude00": "\U0001f600",
    }
    for number, escaped in enumerate(cases):
        raw = json.dumps(_comment(id=700 + number, text="@TEXT@")).replace("@TEXT@", f"Фонарь {escaped}")
        assert _answer(vk, raw) == (200, "ok"), "queued, not 503 forever"
    assert ingest(receive("IngestQueue")) == NO_FAILURES
    stored = {appeal["source"]["comment_id"]: appeal["text"] for appeal in _appeals(federal)}
    assert stored == {700 + number: f"Фонарь {text}" for number, text in enumerate(cases.values())}


def test_a_lone_surrogate_in_a_secret_or_a_key_is_no_500(vk: TestClient, receive: Receive) -> None:
    wrong = json.dumps({"type": "wall_reply_new", "group_id": GROUP_ID, "secret": "@"}).replace("@", "\\ud83d")
    assert _answer(vk, wrong) == (403, "forbidden")
    key = json.dumps(load_event("wall_reply_new")).replace('"thread"', '"\\udc00"')
    assert _post(vk, key).text == "ok"
    assert len(receive("IngestQueue")) == 1


# ---------------------------------------------------------------- webhook: groups cannot be enumerated


def _refusals(client: TestClient, bodies: list[dict[str, Any]]) -> list[tuple[int, str, dict[str, str]]]:
    answers = []
    for body in bodies:
        response = _post(client, json.dumps(body))
        headers = {name: value for name, value in response.headers.items() if name != "date"}
        answers.append((response.status_code, response.text, headers))
    return answers


@pytest.mark.parametrize("event_type", ["wall_reply_new", "confirmation"])
def test_an_unknown_group_and_a_wrong_secret_answer_exactly_alike_after_the_same_work(
    vk: TestClient,
    run_projection: Callable[..., Any],
    receive: Receive,
    monkeypatch: pytest.MonkeyPatch,
    event_type: str,
) -> None:
    run_projection(
        make_event(
            "registry",
            PageArchived(
                page_id="page-9",
                institution_id="inst-1",
                region_code="54",
                platform="vk",
                group_id=200000009,
                revision=1,
            ),
        )
    )
    hashed: list[str] = []
    original = vk_secret.hash_secret

    def counted(secret: str, salt: str) -> str:
        hashed.append(secret)
        return original(secret, salt)

    monkeypatch.setattr(vk_secret, "hash_secret", counted)
    envelope = {**load_event(event_type), "secret": "guess"}
    bodies = [
        {**envelope, "group_id": 1},  # unknown
        {**envelope, "group_id": 200000009},  # archived
        envelope,  # known, wrong secret
    ]
    answers = _refusals(vk, bodies)
    assert answers[0][:2] == (403, "forbidden")
    assert answers[0] == answers[1] == answers[2]
    assert hashed == ["guess", "guess", "guess"], "one secret check each, whether the group is known or not"
    assert receive("IngestQueue") == []


def test_confirmation_without_a_secret_of_an_unknown_group_answers_like_a_wrong_secret(vk: TestClient) -> None:
    unknown = {"type": "confirmation", "group_id": 42}
    wrong = {"type": "confirmation", "group_id": GROUP_ID, "secret": "guess"}
    assert _refusals(vk, [unknown])[0] == _refusals(vk, [wrong])[0]


# ---------------------------------------------------------------- ingest: events we cannot use


def _rejection(envelope: dict[str, Any]) -> str:
    seen = bootstrap.repository().read_seen_event(group_id=GROUP_ID, event_id=envelope["event_id"])
    assert seen is not None and seen["outcome"] == "rejected", seen
    return seen.get("reason", "")


UNUSABLE = [  # (event, object fields, the field the reason names)
    ("wall_reply_new", {"from_id": 10**12}, "from_id"),
    ("wall_reply_new", {"from_id": -(10**15)}, "from_id"),
    ("wall_reply_new", {"id": 10**30}, "id"),
    ("wall_reply_new", {"id": 0}, "id"),
    ("wall_reply_new", {"post_id": MAX_VK_ID + 1}, "post_id"),
    ("wall_reply_new", {"owner_id": -(10**20)}, "owner_id"),
    ("wall_reply_new", {"parents_stack": [10**13]}, "parents_stack.0"),
    ("wall_reply_new", {"date": 10**15}, "date"),
    ("wall_reply_new", {"date": -1}, "date"),
    ("wall_reply_new", {"from_id": "abc"}, "from_id"),
    ("wall_reply_new", {"text": 5}, "text"),
    ("wall_reply_new", {"post_id": None, "owner_id": None, "post_owner_id": None}, "post_id"),
    ("wall_reply_new", {"attachments": [{"type": "photo", "photo": {"id": 10**12}}]}, "attachments.0.id"),
    ("wall_reply_new", {"attachments": [{"type": "Photo <script>"}]}, "attachments.0.type"),
    ("wall_reply_delete", {"deleter_id": 10**40}, "deleter_id"),
    ("video_comment_edit", {"video_owner_id": 10**12}, "video_owner_id"),
    ("message_reply", {"peer_id": 10**20}, "peer_id"),
    ("like_add", {"liker_id": 10**12}, "liker_id"),
    ("group_join", {"user_id": "²"}, "user_id"),
]


def test_out_of_bounds_ids_and_unknown_shapes_are_acknowledged_and_recorded_as_rejected(
    vk_page: PageUpserted, deliver: Deliver, receive: Receive
) -> None:
    del vk_page
    envelopes = [load_event(name, **change) for name, change, _ in UNUSABLE]
    assert deliver(*envelopes, *envelopes) == NO_FAILURES, "not retried into the dead-letter queue"
    for envelope, (_, _, named) in zip(envelopes, UNUSABLE, strict=True):
        reason = _rejection(envelope)
        assert named in reason, (named, reason)
        assert str(CITIZEN_ID) not in reason and "Ленина" not in reason, "field names only, never values"
    assert receive("ActivityQueue") == []


def test_an_event_without_an_object_we_know_is_recorded_as_rejected(vk_page: PageUpserted, deliver: Deliver) -> None:
    del vk_page
    envelopes = [
        {**load_event("message_new"), "object": value, "event_id": f"odd-{n}"}
        for n, value in enumerate(["a comment", [1, 2], {"message": "hello"}, None])
    ]
    del envelopes[-1]["object"]
    assert deliver(*envelopes) == NO_FAILURES
    assert all(_rejection(envelope) for envelope in envelopes)


def test_the_webhook_acknowledges_an_event_without_an_object_and_the_worker_rejects_it(
    vk: TestClient, receive: Receive, ingest: Deliver
) -> None:
    envelope = {"type": "wall_reply_new", "event_id": "bare", "group_id": GROUP_ID, "secret": SECRET}
    assert _answer(vk, json.dumps(envelope)) == (200, "ok")
    assert ingest(receive("IngestQueue")) == NO_FAILURES
    assert _rejection(envelope) == "event without an object"


def test_a_message_without_its_fields_names_them(vk_page: PageUpserted, deliver: Deliver) -> None:
    del vk_page
    envelope = {**load_event("message_new"), "object": {"message": {"text": "Здравствуйте"}}}
    deliver(envelope)
    reason = _rejection(envelope)
    assert "conversation_message_id: missing" in reason and "Здравствуйте" not in reason


def test_odd_event_ids_are_replaced_by_a_stable_hash(
    vk_page: PageUpserted, deliver: Deliver, federal: dict[str, str]
) -> None:
    del vk_page
    odd = [{"nested": "id"}, "x" * 10_000, "id with\nnewline", True, 10**100]
    envelopes = [{**load_event("wall_reply_new", id=800 + n), "event_id": event_id} for n, event_id in enumerate(odd)]
    assert deliver(*envelopes, *envelopes) == NO_FAILURES
    assert len(_appeals(federal)) == len(odd)


def test_a_queue_message_our_webhook_never_wrote_still_fails_its_record(vk_page: PageUpserted, ingest: Deliver) -> None:
    del vk_page
    good = queued(load_event("wall_reply_new"))
    result = ingest([{"MessageId": "garbage", "ReceiptHandle": "r", "Body": "not json"}, good])
    assert result == {"batchItemFailures": [{"itemIdentifier": "garbage"}]}


# ---------------------------------------------------------------- read API: dates, cursors, ids


BAD_RANGES = [  # (query, the parameter the 422 names)
    ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
    ({"to": "0001-01-01"}, "to"),
    ({"to": "9999-12-31T23:59:59-05:00"}, "to"),
    ({"from": "2026-13-01"}, "from"),
    ({"from": "2026-01-0²"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"from": "2026-01-03", "to": "2026-01-02"}, "from"),
    ({"from": "2026-01-02T00:00:01Z", "to": "2026-01-02T00:00:00Z"}, "from"),
]


@pytest.mark.usefixtures("vk_page")
def test_bad_dates_and_reversed_ranges_are_422_naming_the_parameter(federal: dict[str, str]) -> None:
    for params, field in BAD_RANGES:
        response = TestClient(app).get("/appeals", params={"page_id": "page-1", **params}, headers=federal)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["field"] == field, params


@pytest.mark.usefixtures("seeded")
def test_a_day_is_a_whole_day_in_the_regions_zone(federal: dict[str, str]) -> None:
    client = TestClient(app)

    def received(**params: str) -> list[str]:
        body = client.get("/appeals", params={"page_id": "page-1", **params}, headers=federal).json()
        return sorted(item["received_at"] for item in body["items"])

    # the seeded appeals are at 07:00 in Novosibirsk on 1, 2 and 3 January
    assert received(to="2026-01-01") == ["2026-01-01T07:00:00+07:00"]
    assert received(**{"from": "2026-01-02", "to": "2026-01-02"}) == ["2026-01-02T07:00:00+07:00"]
    assert received(**{"from": "2026-01-03"}) == ["2026-01-03T07:00:00+07:00"]
    assert received(to="2026-01-02T06:59:59") == ["2026-01-01T07:00:00+07:00"], "no offset: the region's time"


def _cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.usefixtures("seeded")
def test_crafted_cursors_are_400_before_dynamodb(federal: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(app)
    first = client.get("/appeals", params={"region": "54", "limit": 1}, headers=federal).json()["next_cursor"]
    key = json.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    assert set(key) == {"PK", "SK", "GSI1PK", "GSI1SK"}
    crafted = [
        "garbage!",
        _cursor([1, 2]),
        _cursor({**key, "extra": "x"}),
        _cursor({name: value for name, value in key.items() if name != "SK"}),
        _cursor({**key, "GSI1PK": "REGION#77"}),
        _cursor({**key, "GSI1SK": 5}),
        _cursor({**key, "GSI1SK": {"S": "x"}}),
        _cursor({"PK": key["PK"], "SK": key["SK"], "GSI2PK": "INST#inst-1", "GSI2SK": key["GSI1SK"]}),
    ]
    queried: list[Any] = []
    monkeypatch.setattr(bootstrap.repository().client, "query", lambda **request: queried.append(request))
    for cursor in crafted:
        response = client.get("/appeals", params={"region": "54", "cursor": cursor}, headers=federal)
        assert response.status_code == 400, cursor
        assert response.json()["detail"][0]["field"] == "cursor"
    institution = client.get("/appeals", params={"institution_id": "inst-1", "cursor": first}, headers=federal)
    assert institution.status_code == 400, "a region list's cursor does not page an institution's list"
    assert queried == []


BAD_IDS = [  # (path, query, the parameter the 422 names)
    ("/appeals/" + "a" * 3000, {}, "appeal_id"),
    ("/appeals/%C2%B2", {}, "appeal_id"),
    ("/appeals/APPEAL%23x", {}, "appeal_id"),
    ("/appeals", {"page_id": "p" * 3000}, "page_id"),
    ("/appeals", {"institution_id": "inst#1"}, "institution_id"),
    ("/appeals?institution_id=%ED%A0%BD", {}, "institution_id"),
]


def test_ids_that_cannot_be_ours_are_422_before_they_reach_a_table_key(aws: Any, federal: dict[str, str]) -> None:
    del aws
    for path, params, field in BAD_IDS:
        response = TestClient(app).get(path, params=params or None, headers=federal)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"][0]["field"] == field, path
