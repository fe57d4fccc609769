"""The local SQS dispatcher keeps Lambda's semantics; `gospubliki token` mints tokens the stack accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared import wiring
from shared.auth import verify_token
from shared.aws import sqs
from tooling.cli import main
from tooling.local import keys
from tooling.local.dispatcher import QueueConsumer
from tooling.local.template import QueueMapping, Template

SEEN: list[str] = []


def fail_odd_bodies(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 - Lambda signature
    """Reports every record whose body is an odd number as failed."""
    failures = []
    for record in event["Records"]:
        SEEN.append(record["body"])
        if int(record["body"]) % 2:
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}


def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:  # noqa: ARG001 - Lambda signature
    """Raises: the whole batch must be retried."""
    SEEN.extend(record["body"] for record in event["Records"])
    raise RuntimeError("boom")


def _consumer(aws: Template, handler: str) -> QueueConsumer:
    mapping = QueueMapping(function_id="Test", handler=handler, queue_id="IngestQueue", batch_size=10)
    return QueueConsumer(
        mapping=mapping,
        queue_url=aws.queue_urls["IngestQueue"],
        queue_arn=aws.resolve({"Fn::GetAtt": ["IngestQueue", "Arn"]}),
        region=aws.region,
        retry_delay_seconds=0,
    )


def _visible(aws: Template) -> list[str]:
    response = sqs().receive_message(QueueUrl=aws.queue_urls["IngestQueue"], MaxNumberOfMessages=10)
    return sorted(message["Body"] for message in response.get("Messages", []))


def test_batch_item_failures_are_kept_and_the_rest_deleted(aws: Template) -> None:
    SEEN.clear()
    for body in ("1", "2", "3", "4"):
        sqs().send_message(QueueUrl=aws.queue_urls["IngestQueue"], MessageBody=body)
    consumer = _consumer(aws, "tests.shared.test_dispatcher_and_cli.fail_odd_bodies")
    while consumer.stats.succeeded + consumer.stats.failed < 4:
        consumer.poll_once(wait_seconds=0)
    assert consumer.stats.succeeded == 2 and consumer.stats.failed == 2
    assert _visible(aws) == ["1", "3"]


def test_a_crashing_handler_fails_the_whole_batch(aws: Template) -> None:
    SEEN.clear()
    for body in ("5", "6"):
        sqs().send_message(QueueUrl=aws.queue_urls["IngestQueue"], MessageBody=body)
    consumer = _consumer(aws, "tests.shared.test_dispatcher_and_cli.crash")
    while consumer.stats.failed < 2:
        consumer.poll_once(wait_seconds=0)
    assert consumer.stats.last_error == "RuntimeError" and consumer.stats.succeeded == 0
    assert _visible(aws) == ["5", "6"]


def test_token_command_prints_a_token_the_stack_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        main(
            ["token", "--role", "institution_admin", "--region", "54", "--institution", "i-7", "--state", str(tmp_path)]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    monkeypatch.setenv("GOSPUBLIKI_AUTH_JWKS_FILE", str(tmp_path / keys.JWKS_FILE))
    monkeypatch.setenv("GOSPUBLIKI_AUTH_ISSUER", keys.LOCAL_ISSUER)
    monkeypatch.setenv("GOSPUBLIKI_AUTH_AUDIENCE", keys.LOCAL_AUDIENCE)
    wiring.reset()
    try:
        principal = verify_token(token)
    finally:
        wiring.reset()
    assert (principal.role, principal.region, principal.institution) == ("institution_admin", "54", "i-7")


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["token", "--role", "operator"], "region claim is required"),
        (["token", "--role", "institution_admin", "--region", "54"], "institution claim is required"),
        (["token", "--role", "regional_admin", "--region", "99"], "--region '99' is not a subject code"),
        (["token", "--role", "federal_admin", "--ttl", "0"], "--ttl must be between 1 and"),
        (["token", "--role", "federal_admin", "--ttl", "-5"], "--ttl must be between 1 and"),
        (["token", "--role", "federal_admin", "--ttl", "soon"], "argument --ttl: invalid int value"),
        (["token", "--role", "superuser"], "argument --role: invalid choice"),
        (["token"], "the following arguments are required: --role"),
        (["no-such-command"], "invalid choice"),
        (["import", "/no/such/file.xlsx", "--region", "54"], "no such file /no/such/file.xlsx"),
        (["export", "--region", "54", "--url", "http://127.0.0.1:9", "--token", "t"], "cannot reach"),
    ],
)
def test_cli_mistakes_are_one_readable_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], reason: str
) -> None:
    assert main([*argv, "--state", str(tmp_path)] if argv[0] == "token" else argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("gospubliki") and reason in lines[0]
    assert "validation error" not in lines[0] and "Traceback" not in captured.err
