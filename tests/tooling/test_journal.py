"""The journal: every change moto applies, replayed over the snapshot, survives what a crash leaves behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from shared.aws import dynamodb, secrets, sqs
from tooling.local.journal import COMPACTING_FILE, JOURNAL_FILE, SNAPSHOT_FILE, Journal, Resources, State, load
from tooling.local.patches import observer
from tooling.local.patches.dynamodb import image
from tooling.local.state import live_state
from tooling.local.template import Template

RESOURCES = Resources(
    account_id="123456789012",
    region="eu-central-1",
    tables={"arn:table/things": ("things", ("PK", "SK"))},
    queues={"arn:queue/work": "WorkQueue"},
)


def _item(pk: str, **attributes: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "A"}, **{name: {"S": value} for name, value in attributes.items()}}


def _key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "A"}}


def _lines(*entries: dict[str, Any]) -> str:
    return "".join(json.dumps(entry) + "\n" for entry in entries)


def test_load_replays_the_journal_over_the_snapshot_and_drops_a_cut_last_line(tmp_path: Path) -> None:
    snapshot = {
        "tables": {"things": [_item("kept"), _item("changed", v="old"), _item("deleted")]},
        "secrets": {"old": "1"},
        "queues": {"WorkQueue": [{"Body": "from an old snapshot", "MessageAttributes": {}}]},
    }
    (tmp_path / SNAPSHOT_FILE).write_text(json.dumps(snapshot))
    journal = _lines(
        {"table": "things", "key": _key("changed"), "item": _item("changed", v="new")},
        {"table": "things", "key": _key("deleted"), "item": None},
        {"table": "things", "key": _key("added"), "item": _item("added")},
        {"secrets": {"new": "2"}},
        {"queue": "WorkQueue", "sent": "m1", "body": "one", "attributes": {}},
        {"queue": "WorkQueue", "sent": "m2", "body": "two", "attributes": {}},
        {"queue": "WorkQueue", "removed": "m1"},
    )
    (tmp_path / JOURNAL_FILE).write_text(journal + '{"table": "things", "key": {"PK"')

    state = load(tmp_path, RESOURCES)

    assert state is not None
    assert sorted(state.to_snapshot()["tables"]["things"], key=lambda item: item["PK"]["S"]) == [
        _item("added"),
        _item("changed", v="new"),
        _item("kept"),
    ]
    assert state.secrets == {"new": "2"}
    assert [m["Body"] for m in state.queues["WorkQueue"].values()] == ["from an old snapshot", "two"]


def test_an_item_is_journaled_in_its_wire_format() -> None:
    wire = {
        "PK": {"S": "I#1"},
        "n": {"N": "1.5"},
        "blob": {"B": "aGVsbG8="},
        "blobs": {"BS": ["aGk="]},
        "tags": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "2"]},
        "yes": {"BOOL": True},
        "none": {"NULL": True},
        "source": {"M": {"deep": {"L": [{"B": "eA=="}, {"M": {"s": {"S": "Когда?"}}}]}}},
    }
    journaled = image(Item(DynamoType(wire["PK"]), None, wire))
    assert journaled == wire
    assert json.loads(json.dumps(journaled)) == wire


def test_nothing_saved_loads_as_nothing(tmp_path: Path) -> None:
    assert load(tmp_path, RESOURCES) is None
    (tmp_path / JOURNAL_FILE).write_text("")
    assert load(tmp_path, RESOURCES) is None


def test_a_crash_during_compaction_loses_nothing(tmp_path: Path) -> None:
    """The snapshot may already hold what the set-aside journal holds; replaying it again changes nothing."""
    newer = {"tables": {"things": [_item("a", v="2"), _item("b")]}, "secrets": {}, "queues": {}}
    (tmp_path / SNAPSHOT_FILE).write_text(json.dumps(newer))
    (tmp_path / COMPACTING_FILE).write_text(
        _lines(
            {"table": "things", "key": _key("a"), "item": _item("a", v="1")},
            {"table": "things", "key": _key("b"), "item": _item("b")},
        )
    )
    (tmp_path / JOURNAL_FILE).write_text(_lines({"table": "things", "key": _key("a"), "item": _item("a", v="2")}))
    state = load(tmp_path, RESOURCES)
    assert state is not None
    assert sorted(state.tables["things"].values(), key=lambda item: item["PK"]["S"]) == [_item("a", v="2"), _item("b")]


def test_writes_during_a_compaction_land_in_the_next_journal(tmp_path: Path) -> None:
    journal = Journal(tmp_path, RESOURCES)
    journal.items_changed("arn:table/things", [(_key("before"), _item("before"))])
    journal.items_changed("arn:table/elsewhere", [(_key("ignored"), _item("ignored"))])
    assert journal.dirty

    def read_state() -> State:
        journal.items_changed("arn:table/things", [(_key("during"), _item("during"))])  # another request meanwhile
        state = State()
        state.put_items("things", [_item("before")], ("PK", "SK"))
        return state

    journal.compact(read_state)
    journal.close()

    assert not (tmp_path / COMPACTING_FILE).exists()
    assert json.loads((tmp_path / SNAPSHOT_FILE).read_text())["tables"] == {"things": [_item("before")]}
    assert [json.loads(line)["key"] for line in (tmp_path / JOURNAL_FILE).read_text().splitlines()] == [_key("during")]
    state = load(tmp_path, RESOURCES)
    assert state is not None
    assert len(state.tables["things"]) == 2


def test_a_journal_cut_by_a_crash_continues_on_a_line_of_its_own(tmp_path: Path) -> None:
    (tmp_path / JOURNAL_FILE).write_text(_lines({"secrets": {"a": "1"}}) + '{"secrets": {"b"')
    journal = Journal(tmp_path, RESOURCES)
    journal.secrets_changed("123456789012", "eu-central-1", {"c": "3"})
    journal.close()
    state = load(tmp_path, RESOURCES)
    assert state is not None
    assert state.secrets == {"c": "3"}


@pytest.fixture
def journal(aws: Template, tmp_path: Path) -> Iterator[Journal]:
    """A journal of the ``aws`` fixture's resources, hearing every change moto applies."""
    heard = Journal(tmp_path, Resources.of(aws))
    observer.observe(heard)
    yield heard
    observer.observe(None)
    heard.close()


def test_the_journal_of_real_requests_replays_to_what_moto_holds(aws: Template, journal: Journal) -> None:
    table = aws.tables()["AppealsTable"]["TableName"]
    client = dynamodb()
    client.put_item(TableName=table, Item=_item("put", v="1"))
    client.put_item(TableName=table, Item=_item("gone"))
    client.update_item(
        TableName=table,
        Key=_key("put"),
        UpdateExpression="SET v = :v ADD n :one",
        ExpressionAttributeValues={":v": {"S": "2"}, ":one": {"N": "1"}},
    )
    client.batch_write_item(
        RequestItems={
            table: [{"PutRequest": {"Item": _item(f"batch{n}")}} for n in range(3)]
            + [{"DeleteRequest": {"Key": _key("gone")}}]
        }
    )
    client.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": _item("in a transaction")}}])
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("rolled back")}},
                {"Delete": {"TableName": table, "Key": _key("put")}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": _key("nowhere"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    queue = aws.queue_urls["IngestQueue"]
    for body in ("first", "second"):
        sqs().send_message(QueueUrl=queue, MessageBody=body)
    (received,) = sqs().receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"]
    sqs().delete_message(QueueUrl=queue, ReceiptHandle=received["ReceiptHandle"])
    secrets().create_secret(Name=f"{aws.stack_name}/journal", SecretString="s")

    replayed = load(journal.state_dir, journal.resources)

    assert replayed is not None
    live = live_state(aws)
    assert replayed.tables[table] == live.tables[table]
    assert {item["PK"]["S"] for item in replayed.tables[table].values()} == {
        "put",
        "batch0",
        "batch1",
        "batch2",
        "in a transaction",
    }
    assert [m["Body"] for m in replayed.queues["IngestQueue"].values()] == ["second"]
    assert [m["Body"] for m in live.queues["IngestQueue"].values()] == ["second"]
    assert replayed.secrets[f"{aws.stack_name}/journal"] == "s"
