"""Provisioning from the template, and the local stack's state in moto: restored at start, read for snapshots.

The state folder's files and their guarantees are ``tooling.local.journal``'s. Here moto is read and written in
process (the stack embeds it): tables item by item under the DynamoDB lock of ``tooling.local.patches``, never by a
Scan over HTTP, which would deep-copy every item. This is local tooling: the services never Scan.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from shared.aws import dynamodb, secrets, sqs
from shared.dynamo import chunked
from tooling.local.journal import Resources, State, load
from tooling.local.template import Template


def table_exists(name: str) -> bool:
    """True if the table exists (DescribeTable, not ListTables, which pages at 100 names)."""
    try:
        dynamodb().describe_table(TableName=name)
    except dynamodb().exceptions.ResourceNotFoundException:
        return False
    return True


LOCAL_SERVICE_TOKEN = "local-vk-service-token"


def ensure_service_token(template: Template) -> None:
    """A VK service token for the fake VK, so the subscriber sync runs locally as it would in the cloud."""
    client = secrets()
    try:
        client.create_secret(Name=f"{template.stack_name}/vk/service-token", SecretString=LOCAL_SERVICE_TOKEN)
    except client.exceptions.ResourceExistsException:
        return


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
    from tooling.local.patches import dynamodb as moto_dynamodb

    resources = Resources.of(template)
    now = int(time.time())
    deleted = 0
    for props in template.tables().values():
        attribute = (props.get("TimeToLiveSpecification") or {}).get("AttributeName")
        if attribute:
            deleted += moto_dynamodb.expire_items(
                resources.account_id, resources.region, props["TableName"], attribute, now
            )
    return deleted


def live_state(template: Template) -> State:
    """Everything the stack holds in moto now: its tables' items, the region's secrets, its queued messages."""
    from tooling.local.patches import dynamodb as moto_dynamodb
    from tooling.local.patches import secretsmanager as moto_secrets
    from tooling.local.patches import sqs as moto_sqs

    resources = Resources.of(template)
    account, region = resources.account_id, resources.region
    state = State(secrets=moto_secrets.secret_values(account, region))
    for name, key_names in resources.tables.values():
        state.put_items(name, moto_dynamodb.read_items(account, region, name), key_names)
    for logical_id in resources.queues.values():
        queue_name = template.resolve({"Fn::GetAtt": [logical_id, "QueueName"]})
        messages = moto_sqs.queued_messages(account, region, queue_name)
        state.queues[logical_id] = {message["Id"]: message for message in messages}
    return state


def restore(template: Template, state_dir: Path) -> bool:
    """Load the saved state (snapshot and journal) into the fresh stack; False when there was none (a first start)."""
    from tooling.local.patches import dynamodb as moto_dynamodb

    resources = Resources.of(template)
    state = load(state_dir, resources)
    if state is None:
        return False
    for table_name, items in state.tables.items():
        moto_dynamodb.write_items(resources.account_id, resources.region, table_name, list(items.values()))
    for name, value in state.secrets.items():
        secrets().create_secret(Name=name, SecretString=value)
    for logical_id, queued in state.queues.items():
        url = template.queue_urls.get(logical_id)
        if not url:
            continue
        for chunk in chunked(list(queued.values()), 10):
            sqs().send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": m["MessageAttributes"]}
                    for i, m in enumerate(chunk)
                ],
            )
    return True
