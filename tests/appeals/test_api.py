"""Appeals read API: filters, cursors and scope by role, region and institution (out of scope is 404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.appeals.app import app
from shared.events import make_event
from tests.appeals.conftest import GROUP_ID, load_event, page_upserted

Header = Callable[..., dict[str, str]]
PAGES = {  # page_id: (group_id, institution_id, region_code)
    "page-1": (GROUP_ID, "inst-1", "54"),
    "page-2": (200000002, "inst-2", "54"),
    "page-3": (200000003, "inst-3", "77"),
}
BASE_DATE = 1767225600  # 2026-01-01T00:00:00Z


@pytest.fixture
def federal(auth_header: Header) -> dict[str, str]:
    return auth_header("federal_admin")


@pytest.fixture
def seeded(
    run_projection: Callable[..., Any], deliver: Callable[..., Any], federal: dict[str, str]
) -> dict[str, list[str]]:
    """Three appeals on each page, one day apart; the first appeal of page-1 is answered."""
    for page_id, (group_id, institution_id, region) in PAGES.items():
        run_projection(
            make_event(
                "registry",
                page_upserted(page_id=page_id, group_id=group_id, institution_id=institution_id, region_code=region),
            )
        )
        for n in range(3):
            envelope = load_event("wall_reply_new", id=100 + n, date=BASE_DATE + n * 86400, post_id=1)
            deliver(
                {
                    **envelope,
                    "group_id": group_id,
                    "object": {**envelope["object"], "owner_id": -group_id, "post_owner_id": -group_id},
                }
            )
    reply = load_event("wall_reply_new_community", reply_to_comment=100, parents_stack=[100], post_id=1)
    reply["object"]["date"] = BASE_DATE + 3600
    deliver(reply)
    client = TestClient(app)
    items = client.get("/appeals", params={"region": "54"}, headers=federal).json()["items"]
    items += client.get("/appeals", params={"region": "77"}, headers=federal).json()["items"]
    by_page: dict[str, list[str]] = {}
    for item in items:
        by_page.setdefault(item["page_id"], []).append(item["id"])
    return by_page


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
    for role in ("regional_admin", "operator", "portal"):
        assert _ids(client.get("/appeals", headers=auth_header(role, "54"))) == region_54
        assert client.get("/appeals", params={"region": "77"}, headers=auth_header(role, "54")).status_code == 404
    inst = auth_header("institution_admin", "54", "inst-1")
    assert _ids(client.get("/appeals", headers=inst)) == set(seeded["page-1"])
    assert client.get("/appeals", params={"institution_id": "inst-2"}, headers=inst).status_code == 404
    assert client.get("/appeals", params={"page_id": "page-2"}, headers=inst).status_code == 404
    regional_77_inst = client.get(
        "/appeals", params={"institution_id": "inst-3"}, headers=auth_header("operator", "54")
    )
    assert _ids(regional_77_inst) == set()


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
    assert ids(region="54", rubric="housing") == set()
    assert ids(page_id="page-1", overdue="true") == set()
    assert ids(page_id="page-1", overdue="false") == page_1
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
    assert foreign.status_code == 422
