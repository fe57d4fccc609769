"""The workflow end to end over HTTP on the local stack: a reply through the outbound queue, the sender and the fake
VK (error 6 then success; a permanent error shown; the echo counted once), and the overdue schedule's notice
delivered, signed, to the fake receiver."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from services.appeals.bootstrap import repository
from services.appeals.notifications import verify_signature
from services.appeals.vk import stable_id
from shared.aws import secrets, sqs
from shared.events import make_event
from tests.appeals.conftest import GROUP_ID, SECRET, load_event, page_upserted
from tests.conftest import wait_for
from tooling.local import keys
from tooling.local.stack import LocalStack

WEBHOOK_SECRET = "e2e-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def stack(local_stack: LocalStack) -> LocalStack:
    """The stack with the fixtures' page projected, its community token stored and its callback secret known to VK."""
    event = make_event("registry", page_upserted())
    sqs().send_message(
        QueueUrl=local_stack.template.queue_urls["AppealsRegistryEventsQueue"], MessageBody=event.model_dump_json()
    )
    wait_for(lambda: repository().read_page_by_group(GROUP_ID))
    secrets().create_secret(Name=f"{local_stack.options.stack_name}/vk/page-1", SecretString="vk1.a.e2e-token")
    httpx.post(f"{local_stack.base_url}/_local/vk/secrets", json={"group_id": GROUP_ID, "secret": SECRET})
    return local_stack


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> httpx.Client:
    token = keys.issue_token(stack.state_dir, role="regional_admin", region="54")
    return httpx.Client(base_url=stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _comment(stack: LocalStack, api: httpx.Client, comment_id: int, *, ago: int = 60) -> str:
    post_id = comment_id  # a post of its own: a follow-up in an answered thread would reopen its appeal instead
    envelope = load_event("wall_reply_new", id=comment_id, post_id=post_id, date=int(time.time()) - ago)
    assert httpx.post(f"{stack.base_url}/vk/callback", json=envelope).text == "ok"
    appeal = stable_id(f"wall:{-GROUP_ID}:{post_id}:{comment_id}")
    wait_for(lambda: api.get(f"/appeals/{appeal}").status_code == 200)
    return appeal


def _appeal(api: httpx.Client, appeal: str) -> dict[str, Any]:
    result: dict[str, Any] = api.get(f"/appeals/{appeal}").json()
    return result


def test_a_reply_reaches_vk_after_error_6_and_its_echo_answers_the_appeal_once(
    stack: LocalStack, api: httpx.Client
) -> None:
    appeal = _comment(stack, api, 7001)
    httpx.post(f"{stack.base_url}/_local/vk/failures", json={"method": "wall.createComment", "errors": [6]})
    accepted = api.post(f"/appeals/{appeal}/reply", json={"text": "Ремонт запланирован на май."})
    assert accepted.status_code == 202, accepted.text
    answered = wait_for(lambda: (a := _appeal(api, appeal))["status"] == "answered" and a, timeout=30)
    assert answered["replies"][0]["state"] == "sent" and answered["reply"]["reply_id"] == accepted.json()["reply_id"]
    calls = [
        call
        for call in httpx.get(f"{stack.base_url}/_local/vk/calls", params={"method": "wall.createComment"}).json()
        if call["params"].get("guid") == accepted.json()["reply_id"]
    ]
    assert [("error" in call["response"]) for call in calls] == [True, False], "error 6, then success"
    time.sleep(1)
    final = _appeal(api, appeal)
    assert [entry["action"] for entry in final["history"]].count("answered") == 1, "the echo is counted once"
    assert final["response_working_minutes"] is not None and final["answered_within_sla"] is not None


def test_a_permanent_vk_error_is_shown_on_the_appeal(stack: LocalStack, api: httpx.Client) -> None:
    appeal = _comment(stack, api, 7002)
    httpx.post(f"{stack.base_url}/_local/vk/failures", json={"method": "wall.createComment", "errors": [15]})
    api.post(f"/appeals/{appeal}/reply", json={"text": "Ответ"})
    failed = wait_for(lambda: (a := _appeal(api, appeal))["replies"][0]["state"] == "failed" and a, timeout=30)
    assert failed["replies"][0]["error"] == "VK denied access (comments closed, or the post or message was removed)"
    assert failed["status"] == "in_progress"


def test_the_overdue_schedule_notifies_the_regions_webhook_with_a_signature(
    stack: LocalStack, api: httpx.Client
) -> None:
    policy = {"webhook_url": f"{stack.base_url}/_local/notifications", "webhook_secret": WEBHOOK_SECRET}
    assert api.put("/appeals/policies/54", json=policy).status_code == 200
    appeal = _comment(stack, api, 7003, ago=6 * 86400)
    fired = httpx.post(f"{stack.base_url}/_local/schedules/AppealsOverdueFunction", timeout=30)
    assert fired.status_code == 200 and fired.json()["result"]["result"]["flagged"] >= 1
    assert _appeal(api, appeal)["overdue"] is True

    def overdue_notice() -> dict[str, Any] | None:
        for item in httpx.get(f"{stack.base_url}/_local/notifications").json():
            if appeal in item["body"] and "appeal.overdue" in item["body"]:
                return dict(item)
        return None

    received = wait_for(overdue_notice, timeout=30)
    assert verify_signature(received["body"].encode(), received["signature"], secret=WEBHOOK_SECRET)
