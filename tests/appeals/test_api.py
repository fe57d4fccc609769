"""Appeals read API: filters, cursors and scope by role, region and institution (out of scope is 404)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from services.appeals import bootstrap
from services.appeals.app import app
from services.appeals.repository import AppealRecord, SeenEvent
from tests.appeals.conftest import CITIZEN_ID, GROUP_ID, load_event

Header = Callable[..., dict[str, str]]


def _ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def test_appeal_exposes_the_documented_fields(seeded: dict[str, list[str]], federal: dict[str, str]) -> None:
    client = TestClient(app)
    body = client.get(f"/appeals/{seeded['page-1'][0]}", headers=federal).json()
    documented = {"id", "page_id", "institution_id", "region_code", "source", "author_id", "text", "received_at"}
    documented |= {"status", "kind", "rubric", "due_at", "first_response_at", "response_working_minutes"}
    assert documented | {"deleted", "history"} <= set(body)
    assert set(body["source"]) >= {"type", "group_id", "owner_id", "post_id", "comment_id"}
    assert body["received_at"].endswith("+07:00")
    assert "raw" not in body and "GSI1PK" not in body and "thread_sk" not in body


def test_lists_are_newest_first_and_scoped_by_role(seeded: dict[str, list[str]], auth_header: Header) -> None:
    client = TestClient(app)
    region_54 = set(seeded["page-1"] + seeded["page-2"])
    listed = client.get("/appeals", params={"region": "54"}, headers=auth_header("federal_admin"))
    dates = [item["received_at"] for item in listed.json()["items"]]
    assert dates == sorted(dates, reverse=True)
    assert _ids(listed) == region_54
    for role in ("regional_admin", "operator"):
        assert _ids(client.get("/appeals", headers=auth_header(role, "54"))) == region_54
        assert client.get("/appeals", params={"region": "77"}, headers=auth_header(role, "54")).status_code == 404
    portal = auth_header("portal", "54")
    assert client.get("/appeals", headers=portal).status_code == 403, "portals never get citizens' texts or ids"
    assert client.get(f"/appeals/{seeded['page-1'][0]}", headers=portal).status_code == 403
    inst = auth_header("institution_admin", "54", "inst-1")
    assert _ids(client.get("/appeals", headers=inst)) == set(seeded["page-1"])
    assert client.get("/appeals", params={"institution_id": "inst-2"}, headers=inst).status_code == 404
    assert client.get("/appeals", params={"page_id": "page-2"}, headers=inst).status_code == 404
    regional_77_inst = client.get(
        "/appeals", params={"institution_id": "inst-3"}, headers=auth_header("operator", "54")
    )
    assert regional_77_inst.status_code == 404, "an institution outside the scope is not found, not an empty list"


def test_federal_wide_list_needs_a_region_institution_or_page(
    seeded: dict[str, list[str]], federal: dict[str, str]
) -> None:
    client = TestClient(app)
    response = client.get("/appeals", headers=federal)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "region"
    assert _ids(client.get("/appeals", params={"institution_id": "inst-3"}, headers=federal)) == set(seeded["page-3"])


def test_get_one_is_404_outside_the_scope(
    seeded: dict[str, list[str]], auth_header: Header, federal: dict[str, str]
) -> None:
    client = TestClient(app)
    other_region = seeded["page-3"][0]
    other_institution = seeded["page-2"][0]
    assert client.get(f"/appeals/{other_region}", headers=auth_header("regional_admin", "54")).status_code == 404
    inst = auth_header("institution_admin", "54", "inst-1")
    assert client.get(f"/appeals/{other_institution}", headers=inst).status_code == 404
    assert client.get(f"/appeals/{seeded['page-1'][0]}", headers=inst).status_code == 200
    assert client.get("/appeals/no-such-appeal", headers=federal).status_code == 404
    assert client.get(f"/appeals/{other_region}").status_code == 401


def test_filters(seeded: dict[str, list[str]], federal: dict[str, str]) -> None:
    client = TestClient(app)

    def ids(**params: Any) -> set[str]:
        return _ids(client.get("/appeals", params=params, headers=federal))

    page_1 = set(seeded["page-1"])
    assert ids(page_id="page-2") == set(seeded["page-2"])
    assert ids(region="54", status="answered") == {answered_appeal_id(client, seeded, 100, federal)}
    assert ids(page_id="page-1", status="new") == page_1 - {answered_appeal_id(client, seeded, 100, federal)}
    assert ids(region="54", kind="appeal", page_id="page-1") == page_1
    assert ids(region="54", rubric="healthcare") == set()
    assert ids(region="54", rubric="improvement", priority="normal") == set(seeded["page-1"] + seeded["page-2"])
    assert ids(region="54", priority="urgent") == set()
    assert ids(region="54", kind="spam") == set()
    unknown = client.get("/appeals", params={"region": "54", "rubric": "housing"}, headers=federal)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "rubric"
    answered = {answered_appeal_id(client, seeded, 100, federal)}
    assert ids(page_id="page-1", overdue="true") == page_1 - answered, "January's open appeals are long overdue"
    assert ids(page_id="page-1", overdue="false") == answered
    assert len(ids(page_id="page-1", **{"from": "2026-01-02T00:00:00Z"})) == 2
    assert len(ids(page_id="page-1", to="2026-01-02T07:00:00+07:00")) == 2
    assert len(ids(page_id="page-1", **{"from": "2026-01-02T00:00:00Z", "to": "2026-01-02T00:00:00Z"})) == 1
    assert client.get("/appeals", params={"region": "5"}, headers=federal).status_code == 422
    assert client.get("/appeals", params={"page_id": "nope"}, headers=federal).status_code == 404


def answered_appeal_id(
    client: TestClient, seeded: dict[str, list[str]], comment_id: int, federal: dict[str, str]
) -> str:
    for appeal_id in seeded["page-1"]:
        body = client.get(f"/appeals/{appeal_id}", headers=federal).json()
        if body["source"]["comment_id"] == comment_id:
            return appeal_id
    raise AssertionError(comment_id)


def test_cursor_pages_through_everything_once(seeded: dict[str, list[str]], federal: dict[str, str]) -> None:
    client = TestClient(app)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"region": "54", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/appeals", params=params, headers=federal).json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(seeded["page-1"] + seeded["page-2"])
    assert client.get("/appeals", params={"region": "54", "cursor": "garbage!"}, headers=federal).status_code == 400
    first = client.get("/appeals", params={"region": "54", "limit": 1}, headers=federal).json()["next_cursor"]
    foreign = client.get("/appeals", params={"region": "77", "cursor": first}, headers=federal)
    assert foreign.status_code == 400


def _instants(appeal: dict[str, Any]) -> list[str]:
    """Every instant an appeal answer carries."""
    found = [
        appeal[name] for name in ("received_at", "first_response_at", "due_at", "corrected_at") if appeal.get(name)
    ]
    found += [appeal["triage"]["at"]] if appeal.get("triage") else []
    found += [entry["at"] for entry in appeal["history"]]
    return found + ([appeal["reply"]["sent_at"]] if appeal.get("reply") else [])


def test_every_instant_of_an_appeal_is_in_the_regions_zone_to_the_second(
    deliver: Callable[..., Any], vk_page: Any, federal: dict[str, str]
) -> None:
    del vk_page
    deliver(load_event("wall_reply_new"))
    deliver(load_event("wall_reply_new_community"), load_event("wall_reply_edit"), load_event("wall_reply_delete"))
    client = TestClient(app)
    [listed] = client.get("/appeals", params={"region": "54"}, headers=federal).json()["items"]
    appeal = client.get(f"/appeals/{listed['id']}", headers=federal).json()
    assert listed == appeal
    instants = _instants(appeal)
    assert len(instants) == 10, "received, first response, due, triage, reply, history: created, classified, "
    "answered, edited, deleted"
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", instant) for instant in instants), instants
    assert appeal["reply"]["sent_at"] == appeal["first_response_at"] == "2021-02-25T18:05:00+07:00"


def test_instants_stored_in_older_conventions_are_answered_in_the_regions_zone(
    vk_page: Any, federal: dict[str, str]
) -> None:
    del vk_page
    repository = bootstrap.repository()
    record: AppealRecord = {
        "id": "older-appeal",
        "page_id": "page-1",
        "institution_id": "inst-1",
        "region_code": "54",
        "source": {"type": "message", "group_id": GROUP_ID, "peer_id": 1, "conversation_message_id": 1},
        "author_id": 1,
        "text": "Когда вывезут мусор?",
        "attachments": [],
        "received_at": "2026-11-22T10:00:00+00:00",
        "vk_date": 1795341600,
        "status": "answered",
        "kind": "appeal",
        "deleted": False,
        "history": [{"action": "edited", "at": "2026-11-22T10:30:00.123456+00:00", "text": "Когда вывезут мусор?"}],
        "event_id": "e-older",
        "thread": "message:1:1",
        "first_response_at": "2026-11-22T11:00:00Z",
        "reply": {"text": "Завтра.", "sent_at": "2026-11-22T11:00:00Z"},
    }
    seen = SeenEvent(group_id=GROUP_ID, event_id="e-older", type="message_new")
    assert repository.record_appeal(appeal=record, root=None, event=seen)
    appeal = TestClient(app).get("/appeals/older-appeal", headers=federal).json()
    assert _instants(appeal) == [
        "2026-11-22T17:00:00+07:00",
        "2026-11-22T18:00:00+07:00",
        "2026-11-22T17:30:00+07:00",
        "2026-11-22T18:00:00+07:00",
    ]


def test_appeals_of_an_institution_or_page_outside_the_scope_are_not_found(
    seeded: dict[str, list[str]], auth_header: Header, federal: dict[str, str]
) -> None:
    client = TestClient(app)
    regional = auth_header("regional_admin", "54")
    assert _ids(client.get("/appeals", params={"institution_id": "inst-1"}, headers=regional)) == set(seeded["page-1"])
    for params in (
        {"institution_id": "inst-3"},
        {"institution_id": "no-such-institution"},
        {"page_id": "page-3"},
    ):
        response = client.get("/appeals", params=params, headers=regional)
        assert response.status_code == 404 and response.json()["detail"][0]["field"] in params, params
    mismatched = client.get("/appeals", params={"region": "54", "institution_id": "inst-3"}, headers=federal)
    assert mismatched.status_code == 404
    assert client.get("/appeals", params={"region": "77", "page_id": "page-1"}, headers=federal).status_code == 404


def test_portals_are_refused_appeals_with_the_reason_and_where_to_read_counts(
    seeded: dict[str, list[str]], auth_header: Header
) -> None:
    client = TestClient(app)
    portal = auth_header("portal", "54")
    for response in (
        client.get("/appeals", headers=portal),
        client.get("/appeals", params={"page_id": "page-3"}, headers=portal),
        client.get(f"/appeals/{seeded['page-1'][0]}", headers=portal),
        client.get("/appeals/no-such-appeal", headers=portal),
    ):
        assert response.status_code == 403
        message = response.json()["message"]
        assert "portal" in message and "personal data" in message and "/metrics" in message
        assert "text" not in response.json() and str(CITIZEN_ID) not in response.text
