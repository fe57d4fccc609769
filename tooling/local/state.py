"""Provisioning from the template and state that survives restarts (the local stack's state folder).

moto keeps everything in memory, so the stack writes tables, secrets and queued messages to
``<state>/snapshot.json`` - tables and secrets every few seconds, queued messages on a clean stop - and loads them
back on start. This is local tooling: it may Scan, the services never do.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from shared.aws import dynamodb, secrets, sqs
from shared.dynamo import chunked
from tooling.local.template import Template

SNAPSHOT_FILE = "snapshot.json"


def table_exists(name: str) -> bool:
    """True if the table exists (DescribeTable, not ListTables, which pages at 100 names)."""
    try:
        dynamodb().describe_table(TableName=name)
    except dynamodb().exceptions.ResourceNotFoundException:
        return False
    return True


def provision(template: Template) -> None:
    """Create every table (with TTL applied, which moto ignores in CloudFormation) and queue of the template."""
    client = dynamodb()
    for props in template.tables().values():
        name = props["TableName"]
        if not table_exists(name):
            kwargs: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            client.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            status = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"]
            if status != "ENABLED":
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
                )
    queue_client = sqs()
    for logical_id, raw in template.queues().items():
        props = template.resolve(raw)
        attributes = {
            key: json.dumps(value) if isinstance(value, dict) else str(value)
            for key, value in props.items()
            if key in ("VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy", "DelaySeconds")
        }
        url = queue_client.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        template.queue_urls[logical_id] = url


def expire_ttl(template: Template) -> int:
    """Delete items whose TTL attribute is in the past, as DynamoDB would; the number deleted."""
    client = dynamodb()
    now = int(time.time())
    deleted = 0
    for props in template.tables().values():
        ttl = props.get("TimeToLiveSpecification") or {}
        attribute = ttl.get("AttributeName")
        if not attribute:
            continue
        key_names = [k["AttributeName"] for k in props["KeySchema"]]
        for page in client.get_paginator("scan").paginate(
            TableName=props["TableName"],
            FilterExpression="#ttl < :now",
            ExpressionAttributeNames={"#ttl": attribute},
            ExpressionAttributeValues={":now": {"N": str(now)}},
        ):
            for item in page.get("Items", []):
                client.delete_item(TableName=props["TableName"], Key={k: item[k] for k in key_names})
                deleted += 1
    return deleted


def save(template: Template, state_dir: Path, *, drain_queues: bool = False) -> None:
    """Write tables, secrets and (when ``drain_queues``) queued messages to the snapshot, atomically."""
    client = dynamodb()
    tables: dict[str, list[Any]] = {}
    for props in template.tables().values():
        items: list[Any] = []
        for page in client.get_paginator("scan").paginate(TableName=props["TableName"]):
            items.extend(page.get("Items", []))
        tables[props["TableName"]] = items
    stored_secrets = {}
    secret_client = secrets()
    for secrets_page in secret_client.get_paginator("list_secrets").paginate():
        for entry in secrets_page.get("SecretList", []):
            value = secret_client.get_secret_value(SecretId=entry["ARN"])
            stored_secrets[entry["Name"]] = value.get("SecretString", "")
    path = state_dir / SNAPSHOT_FILE
    queues = _drain(template) if drain_queues else {}  # queued messages live in moto until a clean stop
    snapshot = {"tables": tables, "secrets": stored_secrets, "queues": queues}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


def _drain(template: Template) -> dict[str, list[dict[str, Any]]]:
    client = sqs()
    drained: dict[str, list[dict[str, Any]]] = {}
    for logical_id, url in template.queue_urls.items():
        messages: list[dict[str, Any]] = []
        while True:
            batch = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not batch:
                break
            messages.extend({"Body": m["Body"], "MessageAttributes": m.get("MessageAttributes", {})} for m in batch)
        drained[logical_id] = messages
    return drained


def restore(template: Template, state_dir: Path) -> bool:
    """Load the snapshot into the fresh stack; False when there was none (a first start)."""
    path = state_dir / SNAPSHOT_FILE
    if not path.exists():
        return False
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    client = dynamodb()
    for table_name, items in snapshot.get("tables", {}).items():
        for chunk in chunked(items, 25):
            client.batch_write_item(RequestItems={table_name: [{"PutRequest": {"Item": item}} for item in chunk]})
    for name, value in snapshot.get("secrets", {}).items():
        secrets().create_secret(Name=name, SecretString=value)
    for logical_id, messages in snapshot.get("queues", {}).items():
        url = template.queue_urls.get(logical_id)
        if not url:
            continue
        for chunk in chunked(messages, 10):
            sqs().send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": m["MessageAttributes"]}
                    for i, m in enumerate(chunk)
                ],
            )
    return True
