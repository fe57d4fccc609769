"""State survives a restart of the local stack - tables, secrets and queued messages - and a crash."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

import httpx

from shared import wiring
from shared.aws import dynamodb, secrets, sqs
from shared.events import make_event
from tests.conftest import wait_for
from tests.factories import page_upserted
from tooling.local import keys
from tooling.local.journal import JOURNAL_FILE, SNAPSHOT_FILE
from tooling.local.stack import LocalStack, StackOptions, free_port


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
        wiring.reset()


def test_snapshots_follow_writes_and_an_idle_stack_writes_none(tmp_path: Path) -> None:
    saved_env = dict(os.environ)
    stack = LocalStack(
        StackOptions(
            state_dir=tmp_path,
            port=free_port(),
            stack_name=f"sn{uuid.uuid4().hex[:6]}",
            run_schedules=False,
            dispatch=False,
            snapshot_every_seconds=0.2,
        )
    )
    snapshot = tmp_path / "snapshot.json"
    try:
        stack.start()
        time.sleep(1)
        assert not snapshot.exists(), "nothing was written, so nothing is saved"
        secrets().create_secret(Name="idle-check", SecretString="v")
        wait_for(snapshot.exists, timeout=10)
        written = snapshot.stat().st_mtime_ns
        time.sleep(1)
        assert snapshot.stat().st_mtime_ns == written, "an idle stack does not rewrite its snapshot"
        assert "idle-check" in json.loads(snapshot.read_text())["secrets"]
    finally:
        stack.stop(save=False)
        os.environ.clear()
        os.environ.update(saved_env)
        wiring.reset()


def test_a_crash_loses_no_write_moto_acknowledged(tmp_path: Path) -> None:
    """``stop(save=False)`` writes no final snapshot: the next start has only the journal, as after a kill."""
    saved_env = dict(os.environ)
    name = f"cr{uuid.uuid4().hex[:6]}"
    try:
        first = _stack(tmp_path, name, dispatch=False)
        first.start()
        table = first.template.tables()["RegistryTable"]["TableName"]
        item = {"PK": {"S": "CRASH#1"}, "SK": {"S": "A"}, "note": {"S": "written just before the crash"}}
        dynamodb().put_item(TableName=table, Item=item)
        queue_url = first.template.queue_urls["MetricsRegistryEventsQueue"]
        sqs().send_message(QueueUrl=queue_url, MessageBody="queued before the crash")
        secrets().create_secret(Name=f"{name}/vk/crash", SecretString="token-value")
        first.stop(save=False)
        assert not (tmp_path / SNAPSHOT_FILE).exists(), "no snapshot was due: only the journal holds the writes"
        assert (tmp_path / JOURNAL_FILE).stat().st_size > 0

        second = _stack(tmp_path, name, dispatch=False)
        second.start()
        assert second.restored
        stored = dynamodb().get_item(TableName=table, Key={"PK": {"S": "CRASH#1"}, "SK": {"S": "A"}})
        assert stored["Item"] == item
        messages = sqs().receive_message(QueueUrl=second.template.queue_urls["MetricsRegistryEventsQueue"])
        assert [message["Body"] for message in messages["Messages"]] == ["queued before the crash"]
        assert secrets().get_secret_value(SecretId=f"{name}/vk/crash")["SecretString"] == "token-value"
        second.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        wiring.reset()
