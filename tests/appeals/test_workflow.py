"""The appeals workflow against a real moto server: policies and deadlines, lifecycle actions and their scope,
assignment, work queues, the sender against the fake VK over HTTP, overdue flags, signed notices, anonymisation."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.appeals import bootstrap, deadlines, retention, sender
from services.appeals.app import app
from services.appeals.notifications import SIGNATURE_HEADER, verify_signature
from services.appeals.vk import stable_id
from shared.events import PageUpserted, make_event, parse_event
from shared.vk_api import VkApi
from shared.workers import ScheduledRun
from tests.appeals.conftest import GROUP_ID, institution_upserted, load_event
from tooling.local.lambda_runtime import LambdaContext, sqs_event
from tooling.local.template import Template

Deliver = Callable[..., dict[str, Any]]
Header = Callable[..., dict[str, str]]
Receive = Callable[[str], list[dict[str, Any]]]
NOW = int(time.time())
ROAD = "Когда отремонтируют дорогу на улице Ленина? Ямы уже по колено."
GAS = "Срочно! В подъезде дома 12 на улице Ленина сильно пахнет газом, аварийка не отвечает"
SECRET = "webhook-secret-0123456789"


@pytest.fixture(autouse=True)
def _page(vk_page: PageUpserted, run_projection: Callable[..., Any]) -> None:
    del vk_page
    for institution, region in (("inst-1", "54"), ("inst-2", "54"), ("inst-9", "77")):
        run_projection(make_event("registry", institution_upserted(institution, region)))


def comment(comment_id: int, text: str = ROAD, *, ago: int = 3600) -> dict[str, Any]:
    return load_event("wall_reply_new", id=comment_id, text=text, date=NOW - ago) | {"event_id": f"w{comment_id}"}


def appeal_id(comment_id: int) -> str:
    return stable_id(f"wall:{-GROUP_ID}:310:{comment_id}")


def client() -> TestClient:
    return TestClient(app)


def get(appeal: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client().get(f"/appeals/{appeal}", headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def act(appeal: str, headers: dict[str, str], **body: Any) -> Any:
    return client().post(f"/appeals/{appeal}/status", json=body, headers=headers)


# ---------------------------------------------------------------- policies and deadlines


def test_policies_and_the_deadline_endpoint(auth_header: Header) -> None:
    admin, operator, portal = (
        auth_header("regional_admin", "54"),
        auth_header("operator", "54"),
        auth_header("portal", "54"),
    )
    default = client().get("/appeals/policies/54", headers=portal)
    assert default.status_code == 200
    assert (default.json()["mode"], default.json()["hours"], default.json()["webhook_secret_set"]) == (
        "working_hours",
        8,
        False,
    )
    saturday = {"received_at": "2026-11-28T10:00:00+07:00"}
    deadline = client().get("/appeals/policies/54/deadline", params=saturday, headers=portal)
    assert deadline.json() == {"due_at": "2026-11-30T18:00:00+07:00"}, "8 working hours from a Saturday: Monday 18:00"
    assert client().get("/appeals/policies/77", headers=portal).status_code == 404
    assert client().get("/appeals/policies/77/deadline", params=saturday, headers=portal).status_code == 404

    body = {"mode": "calendar_hours", "hours": 24, "final_days": 5, "extra_days_off": ["2026-12-01"]}
    hook = {"webhook_url": "https://bot.example.ru/hook", "webhook_secret": SECRET}
    assert client().put("/appeals/policies/54", json=body, headers=operator).status_code == 403
    assert client().put("/appeals/policies/77", json=body, headers=admin).status_code == 403
    no_secret = client().put(
        "/appeals/policies/54", json=body | {"webhook_url": "https://x.example.ru/"}, headers=admin
    )
    assert no_secret.status_code == 422 and no_secret.json()["detail"][0]["field"] == "webhook_secret"
    plain = client().put(
        "/appeals/policies/54", json=body | hook | {"webhook_url": "http://x.example.ru/"}, headers=admin
    )
    assert plain.status_code == 422 and plain.json()["detail"][0]["field"] == "webhook_url"
    saved = client().put("/appeals/policies/54", json=body | hook, headers=admin)
    assert saved.status_code == 200, saved.text
    assert SECRET not in saved.text and saved.json()["webhook_secret_set"] is True
    assert SECRET not in client().get("/appeals/policies/54", headers=admin).text
    assert bootstrap.webhook_secret("54") == SECRET
    deadline = client().get("/appeals/policies/54/deadline", params=saturday, headers=portal).json()
    assert deadline == {"due_at": "2026-11-29T10:00:00+07:00"}, "24 calendar hours"
    kept = client().put("/appeals/policies/54", json=body | {"webhook_url": "https://bot.example.ru/v2"}, headers=admin)
    assert kept.status_code == 200 and kept.json()["webhook_secret_set"], "a secret once set is kept"


def test_an_appeal_gets_its_deadline_and_its_sla_figures_once_answered(
    deliver: Deliver, auth_header: Header, receive: Receive
) -> None:
    # Thursday 2021-02-25 18:03 in Novosibirsk: after hours, so 8 working hours end on Friday at 18:00.
    deliver(load_event("wall_reply_new"))
    appeal = stable_id(f"wall:{-GROUP_ID}:310:312")
    operator = auth_header("operator", "54")
    created = get(appeal, operator)
    assert (created["due_at"], created["overdue"], created["status"]) == ("2021-02-26T18:00:00+07:00", True, "new")
    assert "take" in created["allowed_actions"]
    reply = load_event("wall_reply_new_community")
    deliver(reply)
    answered = get(appeal, operator)
    assert (answered["status"], answered["overdue"]) == ("answered", False)
    assert (answered["response_working_minutes"], answered["answered_within_sla"]) == (0, True)
    types = [parse_event(message["Body"]).type for message in receive("ActivityQueue")]
    assert types.count("appeal.created") == 1 and types.count("appeal.answered") == 1


# ---------------------------------------------------------------- lifecycle, scope, assignment


def test_lifecycle_actions_over_the_api(deliver: Deliver, auth_header: Header, receive: Receive) -> None:
    deliver(comment(1))
    road = appeal_id(1)
    operator = auth_header("operator", "54")
    illegal = act(road, operator, action="close")
    assert illegal.status_code == 409 and "new" in illegal.json()["message"], "409 names the current status"
    taken = act(road, operator, action="take")
    assert taken.status_code == 200 and taken.json()["status"] == "in_progress"
    assert act(road, operator, action="take").status_code == 200, "a repeated click changes nothing"
    entry = taken.json()["history"][-1]
    assert (entry["action"], entry["old_status"], entry["new_status"], entry["actor"]) == (
        "status_changed",
        "new",
        "in_progress",
        "test-operator" if entry["actor"] == "test-operator" else entry["actor"],
    )
    assert entry["actor"] and entry["at"].endswith("+07:00")
    assert act(road, operator, action="restore").status_code == 409
    dismissed = act(road, operator, action="dismiss").json()
    assert (dismissed["status"], dismissed["due_at"] is not None, dismissed["overdue"]) == ("no_action", True, False)
    restored = act(road, operator, status="new").json()
    assert restored["status"] == "new" and restored["due_at"]
    escalated = act(road, operator, action="escalate").json()
    assert escalated["status"] == "escalated_59fz"
    assert act(road, operator, action="answer").json()["status"] == "answered"
    closed = act(road, operator, action="close").json()
    assert (closed["status"], closed["closed_at"] is not None, closed["allowed_actions"]) == ("closed", True, [])
    bad = act(road, operator, action="fly")
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "action"
    types = [parse_event(message["Body"]).type for message in receive("ActivityQueue")]
    assert types.count("appeal.answered") == 1 and types.count("appeal.closed") == 1


def test_who_may_act_and_forwarding_to_an_institution(deliver: Deliver, auth_header: Header) -> None:
    deliver(comment(1))
    road = appeal_id(1)
    own, other = auth_header("institution_admin", "54", "inst-1"), auth_header("institution_admin", "54", "inst-2")
    assert act(road, auth_header("portal", "54"), action="take").status_code == 403
    assert act(road, auth_header("operator", "77"), action="take").status_code == 403
    assert act(road, other, action="take").status_code == 403
    assert client().get(f"/appeals/{road}", headers=other).status_code == 404
    assign = {"institution_id": "inst-2"}
    assert client().post(f"/appeals/{road}/assign", json=assign, headers=own).status_code == 403
    foreign = client().post(
        f"/appeals/{road}/assign", json={"institution_id": "inst-9"}, headers=auth_header("operator", "54")
    )
    assert foreign.status_code == 422 and foreign.json()["detail"][0]["field"] == "institution_id"
    forwarded = client().post(f"/appeals/{road}/assign", json=assign, headers=auth_header("operator", "54"))
    assert forwarded.status_code == 200, forwarded.text
    body = forwarded.json()
    assert (body["status"], body["assigned_institution_id"], body["history"][-1]["institution_id"]) == (
        "forwarded",
        "inst-2",
        "inst-2",
    )
    assert body["due_at"] == get(road, auth_header("operator", "54"))["due_at"], "the deadline does not restart"
    listed = client().get("/appeals", headers=other).json()["items"]
    assert [item["id"] for item in listed] == [road], "the institution it was forwarded to sees it"
    assert act(road, other, action="take").json()["status"] == "in_progress"
    queue = client().get(
        "/appeals", params={"region": "54", "assigned_institution": "inst-2"}, headers=auth_header("operator", "54")
    )
    assert [item["id"] for item in queue.json()["items"]] == [road]


def test_work_queues_by_deadline_and_national_lists(deliver: Deliver, auth_header: Header) -> None:
    deliver(comment(1, ago=3 * 86400), comment(2, ago=10 * 86400), comment(3, ago=600))
    operator = auth_header("operator", "54")
    urgent_first = client().get("/appeals", params={"region": "54", "sort": "due_at"}, headers=operator).json()["items"]
    assert [item["id"] for item in urgent_first] == [appeal_id(2), appeal_id(1), appeal_id(3)]
    overdue = client().get("/appeals", params={"region": "54", "overdue": "true"}, headers=operator).json()["items"]
    assert {item["id"] for item in overdue} == {appeal_id(1), appeal_id(2)}
    soon = datetime.now(UTC) + timedelta(days=30)
    due = client().get("/appeals", params={"region": "54", "due_before": soon.isoformat()}, headers=operator).json()
    assert len(due["items"]) == 3
    federal = auth_header("federal_admin")
    national = client().get("/appeals", params={"status": "new"}, headers=federal).json()["items"]
    assert {appeal_id(1), appeal_id(2), appeal_id(3)} <= {item["id"] for item in national}
    assert client().get("/appeals", headers=federal).status_code == 422
    assert client().get("/appeals", params={"status": "new"}, headers=auth_header("portal", "54")).status_code == 403


# ---------------------------------------------------------------- replies through the sender (fake VK over HTTP)


@pytest.fixture
def vk(fake_vk: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The sender pointed at the fake VK, with a community token for page-1."""
    monkeypatch.setattr(bootstrap, "vk_api", lambda: VkApi(base_url=f"{fake_vk}/method", backoff_seconds=0.01))
    monkeypatch.setattr(bootstrap, "community_token", lambda page_id: "vk1.a.token" if page_id == "page-1" else None)
    return fake_vk


def _send(aws: Template, receive: Receive) -> dict[str, Any]:
    messages = receive("AppealsOutboundQueue")
    event = sqs_event(messages, queue_arn="arn:outbound", region=aws.region)
    result: dict[str, Any] = sender.handler(event, LambdaContext(function_name="AppealsSenderFunction"))
    return result


def _inject(fake_vk: str, method: str, errors: list[int]) -> None:
    body = json.dumps({"method": method, "errors": errors}).encode()
    request = urllib.request.Request(
        f"{fake_vk}/failures", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(request, timeout=5).close()


def test_a_reply_goes_to_vk_after_a_rate_limit_and_a_permanent_error_is_shown(
    deliver: Deliver, auth_header: Header, receive: Receive, vk: str, aws: Template
) -> None:
    deliver(comment(1), comment(2))
    operator = auth_header("operator", "54")
    assert client().post(f"/appeals/{appeal_id(1)}/reply", json={"text": ""}, headers=operator).status_code == 422
    portal = client().post(
        f"/appeals/{appeal_id(1)}/reply", json={"text": "Ответ"}, headers=auth_header("portal", "54")
    )
    assert portal.status_code == 403
    _inject(vk, "wall.createComment", [6])
    accepted = client().post(f"/appeals/{appeal_id(1)}/reply", json={"text": "Ремонт в мае."}, headers=operator)
    assert accepted.status_code == 202 and accepted.json()["state"] == "queued"
    queued = get(appeal_id(1), operator)
    assert queued["status"] == "in_progress" and queued["replies"][0]["state"] == "queued"
    assert _send(aws, receive) == {"batchItemFailures": []}, "error 6 is retried by the client, then it succeeds"
    sent = get(appeal_id(1), operator)["replies"][0]
    assert sent["state"] == "sent" and sent["comment_id"] and sent["error"] is None

    _inject(vk, "wall.createComment", [15])
    client().post(f"/appeals/{appeal_id(2)}/reply", json={"text": "Ответим позже", "interim": True}, headers=operator)
    assert _send(aws, receive) == {"batchItemFailures": []}, "a permanent error is recorded, not retried"
    failed = get(appeal_id(2), operator)
    assert failed["replies"][0]["state"] == "failed"
    assert failed["replies"][0]["error"] == "VK denied access (comments closed, or the post or message was removed)"
    assert failed["replies"][0]["error_code"] == 15
    assert failed["history"][-1]["action"] == "reply_failed"

    _inject(vk, "wall.createComment", [10, 10, 10, 10])
    client().post(f"/appeals/{appeal_id(2)}/reply", json={"text": "Ещё раз"}, headers=operator)
    messages = receive("AppealsOutboundQueue")
    event = sqs_event(messages, queue_arn="arn:outbound", region=aws.region)
    with pytest.raises(Exception, match="All records failed"):  # a transient error fails it: the queue retries
        sender.handler(event, LambdaContext(function_name="AppealsSenderFunction"))
    assert get(appeal_id(2), operator)["replies"][1]["state"] == "queued"


def test_our_reply_echo_answers_the_appeal_once(
    deliver: Deliver, auth_header: Header, receive: Receive, vk: str, aws: Template
) -> None:
    del vk
    deliver(comment(1))
    operator = auth_header("operator", "54")
    client().post(f"/appeals/{appeal_id(1)}/reply", json={"text": "Промежуточно", "interim": True}, headers=operator)
    _send(aws, receive)
    sent = get(appeal_id(1), operator)["replies"][0]
    echo = load_event("wall_reply_new_community", id=sent["comment_id"], text="Промежуточно", date=NOW)
    echo["object"].pop("reply_to_comment", None)
    echo["object"]["parents_stack"] = []
    deliver(echo, echo)
    interim = get(appeal_id(1), operator)
    assert interim["status"] == "interim_answer" and interim["final_due_at"] and interim["reply"]["interim"]
    assert [entry["action"] for entry in interim["history"]].count("answered") == 1, "the echo counts once"
    client().post(f"/appeals/{appeal_id(1)}/reply", json={"text": "Отремонтировали."}, headers=operator)
    _send(aws, receive)
    final_id = get(appeal_id(1), operator)["replies"][1]["comment_id"]
    final = load_event("wall_reply_new_community", id=final_id, text="Отремонтировали.", date=NOW + 60)
    final["object"].pop("reply_to_comment", None)
    final["object"]["parents_stack"] = []
    deliver(final)
    answered = get(appeal_id(1), operator)
    assert (answered["status"], answered["answered_within_sla"]) == ("answered", True)
    assert answered["reply"]["text"] == "Промежуточно", "the first response stays the interim one"


# ---------------------------------------------------------------- overdue, notices, anonymisation


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, self.headers[SIGNATURE_HEADER]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        return


@pytest.fixture
def webhook() -> Iterator[str]:
    """A region's webhook receiver on 127.0.0.1 recording signed notices."""
    _Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _run(handler: Any, when: datetime) -> Any:
    run = {"scheduled_time": when.isoformat(), "execution_id": "x"}
    return handler(run, LambdaContext(function_name="schedule"))


def test_overdue_appeals_are_flagged_once_and_the_region_is_notified(
    deliver: Deliver, auth_header: Header, receive: Receive, webhook: str, aws: Template
) -> None:
    admin = auth_header("regional_admin", "54")
    client().put("/appeals/policies/54", json={"webhook_url": webhook, "webhook_secret": SECRET}, headers=admin)
    deliver(comment(1, ago=5 * 86400), comment(2, ago=60), comment(3, GAS, ago=60))
    receive("ActivityQueue")
    urgent = receive("AppealsNotificationsQueue")
    assert [json.loads(m["Body"])["type"] for m in urgent] == ["appeal.urgent"], "an urgent appeal notifies at once"
    assert _run(deadlines.handler, datetime.now(UTC))["result"] == {"flagged": 1}
    assert _run(deadlines.handler, datetime.now(UTC))["result"] == {"flagged": 0}, "once per deadline"
    flagged = get(appeal_id(1), admin)
    assert flagged["overdue"] and flagged["history"][-1]["action"] == "overdue"
    [event] = [parse_event(m["Body"]) for m in receive("ActivityQueue")]
    assert event.type == "appeal.overdue" and event.body.payload.appeal_id == appeal_id(1)  # type: ignore[union-attr]
    national = client().get("/appeals", params={"overdue": "true"}, headers=auth_header("federal_admin")).json()
    assert appeal_id(1) in {item["id"] for item in national["items"]}

    from services.appeals import notifier

    notices = receive("AppealsNotificationsQueue")
    event = sqs_event(urgent + notices, queue_arn="arn:notices", region=aws.region)
    assert notifier.handler(event, LambdaContext(function_name="AppealsNotifierFunction")) == {"batchItemFailures": []}
    assert len(_Receiver.received) == 2
    for body, signature in _Receiver.received:
        assert verify_signature(body, signature, secret=SECRET)
        assert ROAD not in body.decode() and "499047616" not in body.decode(), "no text, no citizen id"
    assert {json.loads(body)["type"] for body, _ in _Receiver.received} == {"appeal.overdue", "appeal.urgent"}


def test_a_failed_delivery_is_retried_by_the_queue(aws: Template, auth_header: Header) -> None:
    from services.appeals import notifier
    from services.appeals.workflow import Notice

    admin = auth_header("regional_admin", "54")
    client().put(
        "/appeals/policies/54",
        json={"webhook_url": "http://127.0.0.1:9/nothing", "webhook_secret": SECRET},
        headers=admin,
    )
    notice = Notice(
        notice_id="n1",
        type="appeal.overdue",
        region_code="54",
        appeal_id="a",
        page_id="p",
        institution_id="i",
        received_at="2026-11-29T10:00:00+07:00",
    )
    message = {"MessageId": "m1", "ReceiptHandle": "r", "Body": notice.model_dump_json()}
    event = sqs_event([message], queue_arn="arn:notices", region=aws.region)
    with pytest.raises(Exception, match="All records failed"):  # the record fails: the queue retries, then DLQ
        notifier.handler(event, LambdaContext(function_name="AppealsNotifierFunction"))


def test_closed_appeals_are_anonymised_after_the_retention_period(deliver: Deliver, auth_header: Header) -> None:
    deliver(comment(1))
    operator = auth_header("operator", "54")
    act(appeal_id(1), operator, action="answer")
    act(appeal_id(1), operator, action="close")
    assert _run(retention.handler, datetime.now(UTC))["result"] == {"anonymised": 0}
    assert _run(retention.handler, datetime.now(UTC) + timedelta(days=366))["result"] == {"anonymised": 1}
    blanked = get(appeal_id(1), operator)
    assert (blanked["text"], blanked["author_id"], blanked["anonymised"]) == ("", 0, True)
    assert all(entry.get("text") is None for entry in blanked["history"])


def test_the_author_writing_again_reopens_the_answered_appeal(deliver: Deliver, auth_header: Header) -> None:
    deliver(comment(1, ago=7200))
    reply = load_event("wall_reply_new_community", reply_to_comment=1, parents_stack=[1], date=NOW - 3600)
    deliver(reply)
    operator = auth_header("operator", "54")
    assert get(appeal_id(1), operator)["status"] == "answered"
    deliver(comment(2, "А когда именно отремонтируют? Прошла неделя, ям всё больше", ago=60))
    reopened = get(appeal_id(1), operator)
    assert reopened["status"] == "in_progress" and reopened["history"][-1]["action"] == "reopened"
    assert client().get(f"/appeals/{appeal_id(2)}", headers=operator).status_code == 404, "no second appeal"


def test_scheduled_run_model_is_what_the_scheduler_sends() -> None:
    assert ScheduledRun.model_validate({"scheduled_time": "2026-11-29T10:00:00Z", "execution_id": "e"})
