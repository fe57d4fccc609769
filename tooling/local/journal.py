"""The local stack's persistence: a snapshot of its state plus a journal of every change since.

Files in the state folder:

* ``snapshot.json`` - tables, secrets and queued messages at the last compaction (the format earlier versions wrote
  every few seconds, so their state folders still load).
* ``journal.jsonl`` - one JSON line per change since then, in the order moto applied them: an item's new image (or
  its deletion), every secret's value, a message joining or leaving a queue. moto reports a change while it still
  answers the request (``tooling.local.patches``), and the line is handed to the operating system before the answer.
* ``journal.compacting.jsonl`` - the journal being folded into a new snapshot (present only during a compaction, or
  after a crash in one).

A write costs one line per item it touched, whatever the size of the table. Compaction - a full snapshot, whose cost
does grow with the data - runs when a stack starts on saved state (folding in the previous run's journal) and, while
it runs, at most every ``snapshot_every_seconds`` when something changed or once the journal passes
``COMPACT_JOURNAL_BYTES``. Stopping only syncs the journal, so it takes the same time whatever the data.

What a crash loses: a killed stack process loses nothing moto acknowledged (the lines are in the OS page cache);
an OS crash or power loss loses at most the last ``SYNC_SECONDS`` of changes (the journal is fsync'd that often).
Every line carries a full image, so replaying a journal over a snapshot that already contains some of its changes is
harmless: a crash during a compaction loses nothing either. A line cut short by the crash is dropped.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tooling.local.template import ACCOUNT_ID, Template

SNAPSHOT_FILE = "snapshot.json"
JOURNAL_FILE = "journal.jsonl"
COMPACTING_FILE = "journal.compacting.jsonl"
SYNC_SECONDS = 1.0
COMPACT_JOURNAL_BYTES = 64 * 1024 * 1024

Image = dict[str, Any]


@dataclass(frozen=True)
class Resources:
    """What of moto's state is the stack's: its tables (ARN -> name, key attributes) and queues (ARN -> id)."""

    account_id: str
    region: str
    tables: dict[str, tuple[str, tuple[str, ...]]]
    queues: dict[str, str]

    @classmethod
    def of(cls, template: Template) -> Resources:
        """The tables and queues of the template."""
        tables = {
            template.resolve({"Fn::GetAtt": [logical_id, "Arn"]}): (
                props["TableName"],
                tuple(key["AttributeName"] for key in props["KeySchema"]),
            )
            for logical_id, props in template.tables().items()
        }
        queues = {template.resolve({"Fn::GetAtt": [logical_id, "Arn"]}): logical_id for logical_id in template.queues()}
        return cls(account_id=ACCOUNT_ID, region=template.region, tables=tables, queues=queues)

    def key_names(self, table_name: str) -> tuple[str, ...] | None:
        """The key attributes of one of the tables (``None`` for a table the template no longer has)."""
        return next((names for name, names in self.tables.values() if name == table_name), None)


def _key_id(key: Image) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


@dataclass
class State:
    """Tables, secrets and queued messages as a snapshot holds them and the journal's lines change them."""

    tables: dict[str, dict[str, Image]] = field(default_factory=dict)  # table -> key -> item
    secrets: dict[str, str] = field(default_factory=dict)
    queues: dict[str, dict[str, Image]] = field(default_factory=dict)  # queue id -> message id -> message

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any], resources: Resources) -> State:
        """The state a snapshot holds (messages of older snapshots, which have no ``Id``, get one)."""
        state = cls(secrets=dict(snapshot.get("secrets", {})))
        for table_name, items in snapshot.get("tables", {}).items():
            names = resources.key_names(table_name)
            if names is not None:
                state.put_items(table_name, items, names)
        for queue_id, messages in snapshot.get("queues", {}).items():
            state.queues[queue_id] = {
                message.get("Id") or f"snapshot-{number}": message for number, message in enumerate(messages)
            }
        return state

    def put_items(self, table_name: str, items: list[Image], key_names: tuple[str, ...]) -> None:
        """Add whole items to a table (keyed by the ``key_names`` attributes)."""
        table = self.tables.setdefault(table_name, {})
        for item in items:
            table[_key_id({name: item[name] for name in key_names})] = item

    def to_snapshot(self) -> dict[str, Any]:
        """The snapshot document."""
        return {
            "tables": {name: list(items.values()) for name, items in self.tables.items()},
            "secrets": self.secrets,
            "queues": {queue_id: list(messages.values()) for queue_id, messages in self.queues.items()},
        }

    def apply(self, entry: dict[str, Any]) -> None:
        """Apply one journal line."""
        if "table" in entry:
            items = self.tables.setdefault(entry["table"], {})
            if entry["item"] is None:
                items.pop(_key_id(entry["key"]), None)
            else:
                items[_key_id(entry["key"])] = entry["item"]
        elif "secrets" in entry:
            self.secrets = dict(entry["secrets"])
        elif "sent" in entry:
            message = {"Id": entry["sent"], "Body": entry["body"], "MessageAttributes": entry["attributes"]}
            self.queues.setdefault(entry["queue"], {})[entry["sent"]] = message
        elif "removed" in entry:
            self.queues.get(entry["queue"], {}).pop(entry["removed"], None)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    """The journal's entries; a last line cut short by a crash is dropped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as journal:
        for line in journal:
            if not line.endswith("\n"):
                return  # the write the crash interrupted: moto never acknowledged it
            yield json.loads(line)


def load(state_dir: Path, resources: Resources) -> State | None:
    """The saved state: the snapshot with the journals replayed over it; ``None`` when nothing was ever saved."""
    snapshot, compacting, journal = (state_dir / name for name in (SNAPSHOT_FILE, COMPACTING_FILE, JOURNAL_FILE))
    if not any(path.exists() and path.stat().st_size for path in (snapshot, compacting, journal)):
        return None
    document = json.loads(snapshot.read_text(encoding="utf-8")) if snapshot.exists() else {}
    state = State.from_snapshot(document, resources)
    for path in (compacting, journal):
        for entry in _lines(path):
            state.apply(entry)
    return state


def write_snapshot(state_dir: Path, state: State) -> None:
    """Replace the snapshot atomically (written in full and synced before it takes the old one's place)."""
    path = state_dir / SNAPSHOT_FILE
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="utf-8") as file:
        file.write(json.dumps(state.to_snapshot(), ensure_ascii=False))  # json.dump writes chunk by chunk: slower
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class Journal:
    """Appends every change of the stack's resources to ``journal.jsonl``; folds it into the snapshot on demand.

    It is the ``tooling.local.patches.observer.StoreObserver`` of the running stack.
    """

    def __init__(self, state_dir: Path, resources: Resources) -> None:
        self.state_dir = state_dir
        self.resources = resources
        self.path = state_dir / JOURNAL_FILE
        self.compacting_path = state_dir / COMPACTING_FILE
        self._lock = threading.Lock()
        self._compaction = threading.Lock()
        self._cut_interrupted_line()
        self._file = self.path.open("a", encoding="utf-8")
        self._unsynced = False
        self.dirty = False

    def _cut_interrupted_line(self) -> None:
        """Drop a last line a crash cut short, so that the next line starts on a line of its own."""
        if not self.path.exists():
            return
        content = self.path.read_bytes()
        if content and not content.endswith(b"\n"):
            with self.path.open("r+b") as file:
                file.truncate(content.rfind(b"\n") + 1)

    # ------------------------------------------------------------ StoreObserver
    def items_changed(self, table_arn: str, changes: list[tuple[Image, Image | None]]) -> None:
        table = self.resources.tables.get(table_arn)
        if table is not None:
            self._append([{"table": table[0], "key": key, "item": item} for key, item in changes])

    def secrets_changed(self, account_id: str, region: str, values: dict[str, str]) -> None:
        if (account_id, region) == (self.resources.account_id, self.resources.region):
            self._append([{"secrets": values}])

    def message_added(self, queue_arn: str, message_id: str, body: str, attributes: dict[str, Any]) -> None:
        queue_id = self.resources.queues.get(queue_arn)
        if queue_id is not None:
            self._append([{"queue": queue_id, "sent": message_id, "body": body, "attributes": attributes}])

    def message_removed(self, queue_arn: str, message_id: str) -> None:
        queue_id = self.resources.queues.get(queue_arn)
        if queue_id is not None:
            self._append([{"queue": queue_id, "removed": message_id}])

    def _append(self, entries: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n" for entry in entries)
        with self._lock:
            self._file.write(text)
            self._file.flush()
            self._unsynced = self.dirty = True

    # ------------------------------------------------------------ upkeep
    @property
    def size(self) -> int:
        """Bytes in the journal now."""
        with self._lock:
            return self._file.tell()

    def sync(self) -> None:
        """Make the lines written so far survive an OS crash."""
        with self._lock:
            if self._unsynced:
                os.fsync(self._file.fileno())
                self._unsynced = False

    def compact(self, read_state: Callable[[], State]) -> None:
        """Write a snapshot of ``read_state()`` and drop the journal lines it contains.

        The journal is set aside first and a new one started, so writes go on while the state is read; whatever
        they change is in the new journal, which the next load replays over this snapshot.
        """
        with self._compaction:
            with self._lock:
                self._file.close()
                self._set_aside()
                self._file = self.path.open("a", encoding="utf-8")
                self.dirty = self._unsynced = False
            write_snapshot(self.state_dir, read_state())
            self.compacting_path.unlink(missing_ok=True)

    def _set_aside(self) -> None:
        if not self.compacting_path.exists():
            os.replace(self.path, self.compacting_path)
            return
        with self.compacting_path.open("ab") as compacting:  # an earlier compaction failed: keep both, in order
            compacting.write(self.path.read_bytes())
        self.path.unlink()

    def close(self, *, sync: bool = True) -> None:
        """Stop writing, after a running compaction has finished; with ``sync`` first make the journal durable."""
        with self._compaction, self._lock:
            if sync and self._unsynced:
                os.fsync(self._file.fileno())
            self._file.close()
