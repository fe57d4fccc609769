"""Subscriber sync on the whole local stack: the fake VK over HTTP (with a rate-limit error), then the registry."""

from __future__ import annotations

import os

import httpx

from services.metrics import bootstrap
from shared import wiring
from shared.aws import secrets
from tests.conftest import wait_for
from tests.registry.helpers import institution_payload, page_payload
from tooling.local import keys
from tooling.local.stack import LocalStack


def test_subscribers_come_from_vk_through_a_rate_limit_and_reach_the_registry(local_stack: LocalStack) -> None:
    token = keys.issue_token(local_stack.state_dir, role="federal_admin")
    api = httpx.Client(base_url=local_stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    institution = api.post("/registry/institutions", json=institution_payload("54")).json()
    page = api.post(f"/registry/institutions/{institution['id']}/pages", json=page_payload()).json()
    wait_for(lambda: bootstrap.repository().get_page(page["id"]))

    os.environ["GOSPUBLIKI_VK_API_URL"] = f"{local_stack.base_url}/_local/vk/method"
    wiring.reset()
    token_name = f"{local_stack.template.stack_name}/vk/service-token"  # the local stack provides one
    secrets().delete_secret(SecretId=token_name, ForceDeleteWithoutRecovery=True)
    wiring.reset()
    assert local_stack.scheduler.fire("MetricsSubscribersFunction")["result"] == {"skipped": "no service token"}
    secrets().create_secret(Name=token_name, SecretString="service-token")
    wiring.reset()
    api.post("/_local/vk/failures", json={"method": "groups.getById", "errors": [6]})

    result = local_stack.scheduler.fire("MetricsSubscribersFunction")["result"]
    assert result["synced"] >= 1 and result["missing"] == 0
    calls = api.get("/_local/vk/calls", params={"method": "groups.getById"}).json()
    assert [("error" in call["response"]) for call in calls[-2:]] == [True, False]  # error 6, then the retry
    assert calls[-1]["params"]["fields"] == "members_count"
    assert str(page["group_id"]) in calls[-1]["params"]["group_ids"].split(",")
    stored = wait_for(lambda: api.get(f"/registry/pages/{page['id']}").json().get("subscribers"))
    assert stored == 1000
