"""Operators correct labels (PATCH), the corrected examples export as training lines, the classifier's figures."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.appeals.app import app
from services.appeals.vk import stable_id
from shared.events import PageUpserted
from tests.appeals.conftest import CITIZEN_ID, GROUP_ID, load_event
from tests.conftest import TokenFactory

Deliver = Callable[..., dict[str, Any]]
Header = Callable[..., dict[str, str]]
ROAD = "Когда отремонтируют дорогу на улице Ленина? Ямы уже по колено."
SPAM = "Заработок от 5000 рублей в день без вложений! Пишите в личку, ссылка в профиле"
GAS = "Срочно! В подъезде дома 12 на улице Ленина сильно пахнет газом, аварийка не отвечает"
NOW = int(time.time())


@pytest.fixture(autouse=True)
def _page(vk_page: PageUpserted) -> None:
    del vk_page


def comment(comment_id: int, text: str) -> dict[str, Any]:
    """A citizen's comment of an hour ago; its VK event id is the same at every call (a redelivery)."""
    return load_event("wall_reply_new", id=comment_id, text=text, date=NOW - 3600) | {"event_id": f"c{comment_id}"}


def appeal_id(comment_id: int) -> str:
    return stable_id(f"wall:{-GROUP_ID}:310:{comment_id}")


@pytest.fixture
def appeals(deliver: Deliver) -> dict[str, str]:
    """A road appeal, a spam comment and an urgent gas appeal of page-1 (inst-1, region 54), received an hour ago."""
    deliver(comment(1, ROAD), comment(2, SPAM), comment(3, GAS))
    return {"road": appeal_id(1), "spam": appeal_id(2), "gas": appeal_id(3)}


def patch(appeal: str, headers: dict[str, str], **body: Any) -> Any:
    return TestClient(app).patch(f"/appeals/{appeal}", json=body, headers=headers)


def test_who_may_correct(appeals: dict[str, str], auth_header: Header, make_token: TokenFactory) -> None:
    road = appeals["road"]
    refused = {
        "portal": (auth_header("portal", "54"), 403),
        "institution_admin": (auth_header("institution_admin", "54", "inst-1"), 403),
        "institution_admin of another institution": (auth_header("institution_admin", "54", "inst-2"), 403),
        "operator of another region": (auth_header("operator", "77"), 403),
        "regional_admin of another region": (auth_header("regional_admin", "77"), 403),
        "anonymous": ({}, 401),
    }
    for who, (headers, status) in refused.items():
        assert patch(road, headers, priority="urgent").status_code == status, who
    other_region = TestClient(app).get(f"/appeals/{road}", headers=auth_header("operator", "77"))
    assert other_region.status_code == 404, "reading outside the scope is 404, writing there 403"
    assert patch("no-such-appeal", auth_header("operator", "54"), priority="urgent").status_code == 404
    for role, region, priority in (
        ("operator", "54", "urgent"),
        ("regional_admin", "54", "normal"),
        ("federal_admin", None, "urgent"),
    ):
        sub = f"{role}-1"
        headers = {"Authorization": f"Bearer {make_token(role, region, sub=sub)}"}
        response = patch(road, headers, priority=priority)
        assert response.status_code == 200, (role, response.text)
        corrected = response.json()
        assert corrected["priority"] == priority and corrected["corrected_at"]
        entry = corrected["history"][-1]
        assert (entry["action"], entry["actor"]) == ("corrected", sub)
        assert entry["new"]["priority"] == priority and entry["old"]["priority"] != priority
        assert corrected["triage"]["priority"] == "normal", "the model's own labels are kept"


def test_a_kind_change_moves_the_appeal_between_no_action_and_its_workflow(
    appeals: dict[str, str], deliver: Deliver, auth_header: Header
) -> None:
    operator = auth_header("operator", "54")
    to_spam = patch(appeals["road"], operator, kind="spam").json()
    assert (to_spam["kind"], to_spam["status"], to_spam["rubric"], to_spam["priority"]) == (
        "spam",
        "no_action",
        None,
        "normal",
    )
    entry = to_spam["history"][-1]
    assert (entry["old_status"], entry["new_status"]) == ("new", "no_action")
    assert (entry["old"]["kind"], entry["old"]["rubric"], entry["new"]["kind"]) == ("appeal", "roads_transport", "spam")
    back = patch(appeals["road"], operator, kind="appeal", rubric="roads_transport").json()
    assert (back["kind"], back["status"], back["rubric"]) == ("appeal", "new", "roads_transport")

    spam = patch(appeals["spam"], operator, kind="appeal", rubric="other", priority="urgent").json()
    assert (spam["status"], spam["rubric"], spam["priority"]) == ("new", "other", "urgent")
    reply = load_event("wall_reply_new_community", reply_to_comment=2, parents_stack=[2])
    reply["object"]["date"] = NOW
    deliver(reply)
    answered = TestClient(app).get(f"/appeals/{appeals['spam']}", headers=operator).json()
    assert answered["status"] == "answered"
    refused = patch(appeals["spam"], operator, kind="other")
    assert refused.status_code == 409 and "answered" in refused.json()["message"], "the lifecycle dismisses no answer"
    assert patch(appeals["spam"], operator, kind="appeal", rubric="waste").json()["status"] == "answered"


def test_invalid_corrections_are_422_naming_the_field(appeals: dict[str, str], auth_header: Header) -> None:
    operator = auth_header("operator", "54")
    cases = [
        ({"kind": "complaint"}, "kind"),
        ({"rubric": "housing"}, "rubric"),
        ({"priority": "high"}, "priority"),
        ({}, "body"),
        ({"status": "answered"}, "status"),
    ]
    for body, field in cases:
        response = patch(appeals["road"], operator, **body)
        assert response.status_code == 422 and response.json()["detail"][0]["field"] == field, body
    spam = appeals["spam"]
    assert patch(spam, operator, kind="appeal").json()["detail"][0]["field"] == "rubric", "an appeal needs a rubric"
    assert patch(spam, operator, rubric="waste").json()["detail"][0]["field"] == "rubric"
    assert patch(spam, operator, priority="urgent").json()["detail"][0]["field"] == "priority"
    unchanged = patch(appeals["road"], operator, kind="appeal")
    assert unchanged.status_code == 200 and unchanged.json()["corrected_at"] is None, "no change, no correction"


def test_an_edit_of_a_corrected_appeal_keeps_the_operators_labels(
    appeals: dict[str, str], deliver: Deliver, auth_header: Header
) -> None:
    patch(appeals["spam"], auth_header("operator", "54"), kind="appeal", rubric="other")
    deliver(load_event("wall_reply_edit", id=2, text=SPAM + " Торопитесь!"))
    appeal = TestClient(app).get(f"/appeals/{appeals['spam']}", headers=auth_header("operator", "54")).json()
    assert (appeal["kind"], appeal["rubric"], appeal["status"]) == ("appeal", "other", "new")
    assert appeal["triage"]["kind"] == "spam" and appeal["text"].endswith("Торопитесь!")


def export(headers: dict[str, str], **params: str) -> Any:
    return TestClient(app).get("/appeals/labels/export", params=params, headers=headers)


def test_label_export_lines_are_what_training_merges(
    appeals: dict[str, str], auth_header: Header, federal: dict[str, str], tmp_path: Path
) -> None:
    from tooling.triage.data import Example, merge_labels

    operator = auth_header("operator", "54")
    patch(appeals["road"], operator, rubric="improvement")
    patch(appeals["spam"], operator, kind="appeal", rubric="other")
    response = export(auth_header("regional_admin", "54"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    by_text = {line["text"]: line for line in lines}
    assert set(by_text) == {ROAD, SPAM}, "only corrected appeals"
    road = by_text[ROAD]
    assert (road["kind"], road["rubric"], road["priority"], road["source"]) == (
        "appeal",
        "improvement",
        "normal",
        "wall_comment",
    )
    assert (road["model"]["kind"], road["model"]["rubric"]) == ("appeal", "roads_transport")
    assert by_text[SPAM]["model"]["kind"] == "spam" and by_text[SPAM]["kind"] == "appeal"
    for forbidden in (str(CITIZEN_ID), str(GROUP_ID), appeals["road"], "author_id", "group_id", "appeal_id"):
        assert forbidden not in response.text
    assert export(federal, region="54").text == response.text
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    assert export(federal, region="54", since=tomorrow).text == ""

    labels = tmp_path / "corrections.jsonl"
    labels.write_text(response.text, encoding="utf-8")
    known = Example(text=ROAD, kind="appeal", rubric="roads_transport")
    merged = {item.text: item for item in merge_labels([known], labels)}
    assert (merged[ROAD].rubric, merged[SPAM].kind, merged[SPAM].rubric) == ("improvement", "appeal", "other")


def test_label_export_scope(appeals: dict[str, str], auth_header: Header, federal: dict[str, str]) -> None:
    del appeals
    for role, region, institution, status in (
        ("operator", "54", None, 403),
        ("institution_admin", "54", "inst-1", 403),
        ("portal", "54", None, 403),
    ):
        assert export(auth_header(role, region, institution)).status_code == status, role
    assert export(auth_header("regional_admin", "77"), region="54").status_code == 404
    assert export(federal).json()["detail"][0]["field"] == "region"
    assert export({}).status_code == 401


def stats(headers: dict[str, str], **params: str) -> Any:
    return TestClient(app).get("/appeals/triage/stats", params=params, headers=headers)


def test_stats_count_assignments_and_corrections_once_per_event(
    appeals: dict[str, str], deliver: Deliver, auth_header: Header
) -> None:
    operator = auth_header("operator", "54")
    deliver(comment(1, ROAD), comment(2, SPAM), comment(3, GAS))  # redelivered: counted once
    patch(appeals["road"], operator, kind="spam")
    patch(appeals["gas"], operator, priority="normal")
    response = stats(operator)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["region"] == "54" and date.fromisoformat(body["to"]) - date.fromisoformat(body["from"]) == timedelta(29)
    assert body["kind"]["appeal"] == {"assigned": 2, "corrected_from": 1, "corrected_to": 0}
    assert body["kind"]["spam"] == {"assigned": 1, "corrected_from": 0, "corrected_to": 1}
    assert body["kind"]["abuse"] == {"assigned": 0, "corrected_from": 0, "corrected_to": 0}
    assert body["rubric"]["roads_transport"]["assigned"] == 1
    assert body["rubric"]["housing_utilities"]["assigned"] == 1
    assert body["rubric"]["roads_transport"]["corrected_from"] == 0, "a kind correction counts under kind"
    assert body["priority"]["urgent"] == {"assigned": 1, "corrected_from": 1, "corrected_to": 0}
    assert body["priority"]["normal"] == {"assigned": 1, "corrected_from": 0, "corrected_to": 1}
    past = stats(operator, **{"from": "2021-01-01", "to": "2021-01-31"}).json()
    assert all(counts == {"assigned": 0, "corrected_from": 0, "corrected_to": 0} for counts in past["kind"].values())


def test_stats_scope(appeals: dict[str, str], auth_header: Header, federal: dict[str, str]) -> None:
    del appeals
    assert stats(auth_header("regional_admin", "54")).status_code == 200
    assert stats(federal, region="54").json()["kind"]["spam"]["assigned"] == 1
    assert stats(federal).json()["detail"][0]["field"] == "region"
    assert stats(auth_header("institution_admin", "54", "inst-1")).status_code == 403
    assert stats(auth_header("portal", "54")).status_code == 403
    assert stats(auth_header("operator", "77"), region="54").status_code == 404
    assert stats({}).status_code == 401
    too_long = stats(federal, region="54", **{"from": "2024-01-01", "to": "2025-06-01"})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["field"] == "from"
