"""Across services on the local stack: a page registered over HTTP reaches the webhook, appeals and metrics.

registry API -> registry events (SQS) -> appeals projection -> VK webhook -> ingest -> appeals API,
and ingest -> activity events (SQS) -> metrics API; the community's reply goes out through the fake VK API
and comes back as a callback that answers the appeal.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.conftest import wait_for
from tests.registry.helpers import institution_payload
from tooling.local import keys
from tooling.local.stack import LocalStack

GROUP_ID = 209990001
SECRET = "e2e-secret-" + uuid.uuid4().hex[:12]
CODE = "c0ffee42"


@pytest.fixture(scope="module")
def admin(local_stack: LocalStack) -> httpx.Client:
    token = keys.issue_token(local_stack.state_dir, role="regional_admin", region="54")
    return httpx.Client(base_url=local_stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)


@pytest.fixture(scope="module")
def page(admin: httpx.Client) -> dict[str, str]:
    institution = admin.post("/registry/institutions", json=institution_payload("54"))
    assert institution.status_code == 201, institution.text
    body = {
        "platform": "vk",
        "group_id": GROUP_ID,
        "url": f"https://vk.com/club{GROUP_ID}",
        "category": "active",
        "callback": {"confirmation_code": CODE, "secret": SECRET},
    }
    created = admin.post(f"/registry/institutions/{institution.json()['id']}/pages", json=body)
    assert created.status_code == 201, created.text
    assert SECRET not in created.text and CODE not in created.text
    return {"page_id": created.json()["id"], "institution_id": institution.json()["id"]}


def _callback(client: httpx.Client, envelope: dict[str, object]) -> httpx.Response:
    return client.post("/vk/callback", json=envelope)


def test_a_registered_page_is_confirmed_and_its_comments_become_answered_appeals(
    admin: httpx.Client, page: dict[str, str]
) -> None:
    vk = httpx.Client(base_url=str(admin.base_url), timeout=15)
    confirmation = {"type": "confirmation", "group_id": GROUP_ID, "secret": SECRET}
    wait_for(lambda: _callback(vk, confirmation).text == CODE)
    assert _callback(vk, {**confirmation, "secret": "wrong"}).status_code == 403

    now = int(time.time())
    comment = {
        "type": "wall_reply_new",
        "event_id": uuid.uuid4().hex,
        "v": "5.199",
        "group_id": GROUP_ID,
        "secret": SECRET,
        "object": {
            "id": 901,
            "from_id": 499047616,
            "post_id": 77,
            "owner_id": -GROUP_ID,
            "post_owner_id": -GROUP_ID,
            "date": now,
            "text": "Когда отремонтируют дорогу на ул. Ленина?",
            "parents_stack": [],
        },
    }
    for retry in range(3):  # VK resends: still one appeal
        response = vk.post("/vk/callback", json=comment, headers={"X-Retry-Counter": str(retry)} if retry else {})
        assert (response.status_code, response.text) == (200, "ok")

    listing = wait_for(lambda: (r := admin.get("/appeals", params={"page_id": page["page_id"]}).json())["items"] and r)
    assert len(listing["items"]) == 1
    appeal = listing["items"][0]
    assert appeal["status"] == "new" and appeal["received_at"].endswith("+07:00")

    reply = vk.post(
        "/_local/vk/method/wall.createComment",
        data={
            "owner_id": -GROUP_ID,
            "post_id": 77,
            "from_group": GROUP_ID,
            "reply_to_comment": 901,
            "message": "Ремонт запланирован на июнь",
            "secret": SECRET,
        },
    )
    assert "comment_id" in reply.json()["response"]
    answered = wait_for(lambda: (a := admin.get(f"/appeals/{appeal['id']}").json())["first_response_at"] and a)
    assert answered["status"] == "answered"
    assert len(admin.get("/appeals", params={"page_id": page["page_id"]}).json()["items"]) == 1

    activity = wait_for(
        lambda: (
            (r := admin.get(f"/metrics/pages/{page['page_id']}/activity").json()).get("totals", {}).get("comment") and r
        )
    )
    assert activity["totals"]["comment"] == 1


def test_another_region_sees_nothing_of_it(local_stack: LocalStack, page: dict[str, str]) -> None:
    token = keys.issue_token(local_stack.state_dir, role="regional_admin", region="01")
    other = httpx.Client(base_url=local_stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert other.get(f"/registry/pages/{page['page_id']}").status_code == 404
    assert other.get(f"/metrics/pages/{page['page_id']}/activity").status_code == 404
    assert other.patch(f"/registry/pages/{page['page_id']}", json={"category": "card"}).status_code == 403
