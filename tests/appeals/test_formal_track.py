"""The 59-ФЗ track against a real moto server: escalation, registration within 3 days, the answer within 30 days
of it, one extension of up to 30 days with the citizen notified in VK, overdue flags on each of these deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.appeals import deadlines, workflow
from services.appeals.repository import AppealRecord
from tests.appeals.conftest import load_event
from tests.appeals.test_workflow import (  # noqa: F401 (fixtures: the page and the fake VK)
    NOW,
    Deliver,
    Header,
    Receive,
    _page,
    _run,
    _send,
    act,
    appeal_id,
    client,
    comment,
    get,
    vk,
)
from tooling.local.template import Template


def _post(appeal: str, what: str, headers: dict[str, str], **body: Any) -> Any:
    return client().post(f"/appeals/{appeal}/{what}", json=body, headers=headers)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_registration_then_one_extension(deliver: Deliver, auth_header: Header) -> None:
    deliver(comment(1), comment(2))
    operator, portal = auth_header("operator", "54"), auth_header("portal", "54")
    road = appeal_id(1)
    refused = _post(road, "registration", operator, number="54-1")
    assert refused.status_code == 409 and "that is new" in refused.json()["message"], "not escalated yet"
    assert _post(road, "registration", portal, number="54-1").status_code == 403

    escalated = act(road, operator, action="escalate").json()
    formal = escalated["formal"]
    assert escalated["status"] == "escalated_59fz" and formal["registration_number"] is None
    assert _at(formal["registration_due_at"]) - _at(formal["escalated_at"]) == timedelta(days=3)
    assert formal["escalated_at"].endswith("+07:00"), "in the region's zone"
    assert "interim_answer" not in escalated["allowed_actions"], "a formal appeal stays on its track until answered"
    early = _post(road, "extension", operator, days=10, reason="запрос в управляющую компанию")
    assert early.status_code == 409 and early.json()["detail"][0]["field"] == "formal", "extended before registered"
    before = _post(road, "registration", operator, number="54-1", registered_at="2020-01-01T10:00:00+03:00")
    assert before.status_code == 422 and before.json()["detail"][0]["field"] == "registered_at"

    registered = _post(road, "registration", operator, number="54-1")
    assert registered.status_code == 200, registered.text
    formal = registered.json()["formal"]
    assert formal["registration_number"] == "54-1"
    assert _at(formal["answer_due_at"]) - _at(formal["registered_at"]) == timedelta(days=30)
    assert registered.json()["history"][-1] | {"at": None} == registered.json()["history"][-1] | {
        "at": None,
        "action": "registered",
        "registration_number": "54-1",
    }
    assert _post(road, "registration", operator, number="54-1").status_code == 200, "the same number again: no-op"
    other = _post(road, "registration", operator, number="54-2")
    assert other.status_code == 409 and "54-1" in other.json()["message"]

    assert _post(road, "extension", operator, days=31, reason="x").status_code == 422
    extended = _post(road, "extension", operator, days=10, reason="запрос в управляющую компанию").json()
    assert _at(extended["formal"]["answer_due_at"]) - _at(formal["answer_due_at"]) == timedelta(days=10)
    assert (extended["formal"]["extension_days"], extended["status"]) == (10, "escalated_59fz")
    assert extended["replies"] == [], "no notice asked for: the citizen was notified otherwise"
    again = _post(road, "extension", operator, days=5, reason="ещё")
    assert again.status_code == 409 and "one extension" in again.json()["message"]

    answered = act(road, operator, action="answer").json()
    assert (answered["status"], answered["answered_within_sla"]) == ("answered", True)
    assert (
        _post(
            appeal_id(2), "extension", auth_header("institution_admin", "54", "inst-2"), days=1, reason="x"
        ).status_code
        == 403
    )


def test_overdue_registration_and_answer_are_flagged(deliver: Deliver, auth_header: Header, receive: Receive) -> None:
    deliver(comment(1, ago=60))
    operator = auth_header("operator", "54")
    road = appeal_id(1)
    act(road, operator, action="escalate")
    now = datetime.now(UTC)
    assert _run(deadlines.handler, now + timedelta(days=2))["result"] == {"flagged": 0}, "8 working hours no longer run"
    assert _run(deadlines.handler, now + timedelta(days=3, hours=1))["result"] == {"flagged": 1}, "not registered"
    assert get(road, operator)["overdue"]
    registered = _post(road, "registration", operator, number="54-7").json()
    assert not registered["overdue"], "registering starts the answer deadline"
    assert _run(deadlines.handler, now + timedelta(days=29))["result"] == {"flagged": 0}
    assert _run(deadlines.handler, now + timedelta(days=30, hours=1))["result"] == {"flagged": 1}, "not answered"
    events = [message["Body"] for message in receive("ActivityQueue")]
    assert sum('"appeal.overdue"' in body for body in events) == 2, "one event per deadline missed"


@pytest.mark.usefixtures("vk")
def test_the_extension_notice_goes_to_vk_and_its_echo_does_not_answer(
    deliver: Deliver, auth_header: Header, receive: Receive, aws: Template
) -> None:
    deliver(comment(1))
    operator = auth_header("operator", "54")
    road = appeal_id(1)
    act(road, operator, action="escalate")
    _post(road, "registration", operator, number="54-9")
    notice = "Срок рассмотрения обращения продлён на 20 дней: запрошены документы."
    extended = _post(road, "extension", operator, days=20, reason="запрошены документы", notice=notice).json()
    [queued] = extended["replies"]
    assert (queued["text"], queued["interim"], queued["state"]) == (notice, True, "queued")
    assert _send(aws, receive) == {"batchItemFailures": []}
    sent = get(road, operator)["replies"][0]
    assert sent["state"] == "sent" and sent["comment_id"]
    echo = load_event("wall_reply_new_community", id=sent["comment_id"], text=notice, date=NOW)
    echo["object"].pop("reply_to_comment", None)
    echo["object"]["parents_stack"] = []
    deliver(echo)
    after = get(road, operator)
    assert after["status"] == "escalated_59fz", "a notice is not the answer"
    assert after["first_response_at"] and after["reply"]["interim"]
    interim = _post(road, "reply", operator, text="Ваше обращение на рассмотрении", interim=True)
    assert interim.status_code == 202, "interim replies are allowed on the formal track"


def _stored(formal: Any, *, first_response_at: str) -> AppealRecord:
    return {  # type: ignore[typeddict-item]
        "id": "a",
        "region_code": "54",
        "kind": "appeal",
        "status": "escalated_59fz",
        "received_at": "2026-11-02T10:00:00+07:00",
        "vk_date": 0,
        "due_at": "2026-11-02T18:00:00+07:00",
        "first_response_at": first_response_at,
        "formal": formal,
    }


def test_a_formal_answer_is_within_the_sla_by_its_59fz_deadlines_only() -> None:
    formal = {
        "escalated_at": "2026-11-03T10:00:00+07:00",
        "registration_due_at": "2026-11-06T10:00:00+07:00",
        "registered_at": "2026-11-05T10:00:00+07:00",
        "answer_due_at": "2026-12-05T10:00:00+07:00",
    }
    late_first_response = _stored(formal, first_response_at="2026-11-20T10:00:00+07:00")
    on_time = workflow._final(None, late_first_response, datetime.fromisoformat("2026-12-05T09:00:00+07:00"))  # type: ignore[arg-type]
    assert on_time["answered_within_sla"] is True, "the social-media deadline does not apply once escalated"
    late = workflow._final(None, late_first_response, datetime.fromisoformat("2026-12-05T10:01:00+07:00"))  # type: ignore[arg-type]
    assert late["answered_within_sla"] is False
    registered_late = _stored(
        formal | {"registered_at": "2026-11-07T10:00:00+07:00"}, first_response_at="2026-11-20T10:00:00+07:00"
    )
    in_time = datetime.fromisoformat("2026-11-21T10:00:00+07:00")
    assert workflow._final(None, registered_late, in_time)["answered_within_sla"] is False  # type: ignore[arg-type]
