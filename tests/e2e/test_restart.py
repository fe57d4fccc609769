"""State survives a restart of the local stack: tables, secrets and queued messages."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import httpx

from shared.aws import secrets, sqs
from shared.events import make_event
from shared.local import keys
from shared.local.stack import LocalStack, StackOptions, free_port
from tests.conftest import _reset_caches, wait_for
from tests.factories import page_upserted


def _stack(state_dir: Path, stack_name: str, *, dispatch: bool) -> LocalStack:
    return LocalStack(
        StackOptions(
            state_dir=state_dir,
            port=free_port(),
            stack_name=stack_name,
            run_schedules=False,
            dispatch=dispatch,
            retry_delay_seconds=0,
            snapshot_every_seconds=3600,
        )
    )


def test_data_and_queued_messages_survive_a_restart(tmp_path: Path) -> None:
    saved_env = dict(os.environ)
    name = f"rs{uuid.uuid4().hex[:6]}"
    page = page_upserted(page_id="pg-r", institution_id="in-r", group_id=1, category="card")
    try:
        first = _stack(tmp_path, name, dispatch=False)
        first.start()
        # a message still queued at stop time, and a secret
        sqs().send_message(
            QueueUrl=first.template.queue_urls["MetricsRegistryEventsQueue"],
            MessageBody=make_event("registry", page).model_dump_json(),
        )
        secrets().create_secret(Name=f"{name}/vk/pg-r", SecretString="token-value")
        first.stop()

        second = _stack(tmp_path, name, dispatch=True)
        second.start()
        assert second.restored
        token = keys.issue_token(tmp_path, role="federal_admin")
        headers = {"Authorization": f"Bearer {token}"}
        path = "/metrics/pages/pg-r/activity"
        wait_for(lambda: httpx.get(second.base_url + path, headers=headers).status_code == 200)
        second.stop()

        third = _stack(tmp_path, name, dispatch=False)
        third.start()
        response = httpx.get(third.base_url + path, headers=headers)
        assert response.status_code == 200, "table contents survive a second restart"
        assert secrets().get_secret_value(SecretId=f"{name}/vk/pg-r")["SecretString"] == "token-value"
        third.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        _reset_caches()
