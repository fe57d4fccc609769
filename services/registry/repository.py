"""DynamoDB layout of the registry (one table) and the only module that talks to it.

Items (``PK`` / ``SK``):

- ``INST#{id}`` / ``A`` - institution. GSI1 ``REGION#{region}#INST`` / ``{status}#{name_key}#{id}`` lists a region
  by status and name prefix. ``page_stats`` holds its active pages' aggregates (feeds the coverage counters).
- ``PAGE#{id}`` / ``A`` - page. GSI1 ``REGION#{region}#PAGE`` / ``{status}#{platform}#{category}#{id}`` lists a
  region; GSI2 ``PAGES#{institution_id}`` / ``{status}#{platform}#{id}`` lists an institution's pages.
- Uniqueness guards, written in the same transaction as their owner: ``OGRN#{ogrn}``, ``VKGROUP#{group_id}``,
  ``PAGEURL#{url_key}`` (``SK`` ``A``, attribute ``owner_id``).
- ``COVERAGE#{region}`` / ``ALL`` | ``SPHERE#{sphere}`` - coverage counters, changed with ``ADD`` in the transaction
  that changes an institution (the delta of its contribution before and after).
- ``OUTBOX#{0..15}`` / ``{created_at}#{uuid}`` - events of a committed change not yet known to be published.
- ``REGIONCFG#{region}`` / ``A`` - per-region settings.

Every change is a ``Unit`` (one institution before/after plus some of its pages) and units are committed in
``TransactWriteItems`` of at most 25 items with their counters and one outbox item, so a change, its counters and its
events are atomic. Revisions guard against lost updates (``revision = :expected``). No Scan anywhere.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.registry.compliance import BUCKETS, bucket
from services.registry.models import PLATFORMS
from shared.aws import dynamodb
from shared.config import get_settings
from shared.dynamo import MAX_TRANSACTION_ITEMS, chunked, deserialize, is_conditional_failure, serialize
from shared.errors import ConflictError, UnavailableError
from shared.events import Event

OUTBOX_SHARDS = 16
BULK_WRITE_THREADS = 8  # parallel BatchWriteItem calls of a bulk import
OUTBOX_EVENTS_PER_ITEM = 200  # ~1 KB an event; an item holds at most 400 KB
BATCH_GET_KEYS = 100
SPHERE_PREFIX = "SPHERE#"
COUNTER_ATTRIBUTES = (
    "institutions",
    "with_pages",
    "exempt",
    "pages",
    "gov_mark",
    *(f"pages_{platform}" for platform in PLATFORMS),
    *(f"c_{name}" for name, _ in BUCKETS),
)
_DERIVED = {"name_key", "page_count"}
_META = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "entity"}


def table() -> str:
    """The registry table's name (read per call: tests switch stacks)."""
    return get_settings().registry_table


def now_iso() -> str:
    """The current UTC time, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def new_id() -> str:
    """A new random id."""
    return uuid.uuid4().hex


def name_key(name: str) -> str:
    """Lower-case, ``ё`` as ``е``, single spaces: what name-prefix filters compare."""
    return " ".join(name.lower().replace("ё", "е").split())[:200]


# ---------------------------------------------------------------- keys


def institution_key(institution_id: str) -> dict[str, str]:
    return {"PK": f"INST#{institution_id}", "SK": "A"}


def page_key(page_id: str) -> dict[str, str]:
    return {"PK": f"PAGE#{page_id}", "SK": "A"}


def guard_key(kind: str, value: str | int) -> dict[str, str]:
    """Key of a uniqueness guard (``OGRN``, ``VKGROUP``, ``PAGEURL``)."""
    return {"PK": f"{kind}#{value}", "SK": "A"}


def counter_key(region_code: str, sort_key: str) -> dict[str, str]:
    return {"PK": f"COVERAGE#{region_code}", "SK": sort_key}


def region_settings_key(region_code: str) -> dict[str, str]:
    return {"PK": f"REGIONCFG#{region_code}", "SK": "A"}


def institution_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """The stored item of an institution record (keys and index attributes added)."""
    return {
        **record,
        **institution_key(record["id"]),
        "entity": "institution",
        "name_key": name_key(record["name"]),
        "page_count": int((record.get("page_stats") or {}).get("pages", 0)),
        "GSI1PK": f"REGION#{record['region_code']}#INST",
        "GSI1SK": f"{record['status']}#{name_key(record['name'])}#{record['id']}",
    }


def page_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """The stored item of a page record."""
    return {
        **record,
        **page_key(record["id"]),
        "entity": "page",
        "GSI1PK": f"REGION#{record['region_code']}#PAGE",
        "GSI1SK": f"{record['status']}#{record['platform']}#{record['category']}#{record['id']}",
        "GSI2PK": f"PAGES#{record['institution_id']}",
        "GSI2SK": f"{record['status']}#{record['platform']}#{record['id']}",
    }


def strip_keys(item: Mapping[str, Any]) -> dict[str, Any]:
    """A record without key and index attributes."""
    return {key: value for key, value in item.items() if key not in _META and key not in _DERIVED}


# ---------------------------------------------------------------- reads


def get_item(key: Mapping[str, str], *, consistent: bool = True) -> dict[str, Any] | None:
    """One item as a plain dict, or ``None``."""
    response = dynamodb().get_item(TableName=table(), Key=serialize(key), ConsistentRead=consistent)
    item = response.get("Item")
    return deserialize(item) if item else None


def batch_get(keys: Iterable[Mapping[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Items by ``(PK, SK)`` for many keys (BatchGetItem, 100 keys a request, unprocessed keys retried)."""
    unique = list({(key["PK"], key["SK"]): key for key in keys}.values())
    found: dict[tuple[str, str], dict[str, Any]] = {}
    client = dynamodb()
    for chunk in chunked(unique, BATCH_GET_KEYS):
        request: dict[str, Any] = {table(): {"Keys": [serialize(key) for key in chunk], "ConsistentRead": True}}
        for attempt in range(8):
            response = client.batch_get_item(RequestItems=request)
            for raw in response.get("Responses", {}).get(table(), []):
                item = deserialize(raw)
                found[(item["PK"], item["SK"])] = item
            request = dict(response.get("UnprocessedKeys") or {})
            if not request:
                break
            time.sleep(0.05 * 2**attempt)
    return found


def query_page(
    *,
    index: str | None,
    partition: str,
    sort_prefix: str | None = None,
    sort_before: str | None = None,
    filters: Sequence[tuple[str, str, Any]] = (),
    limit: int,
    start_key: Mapping[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``limit`` matching items of one partition and the key to continue from (``None`` at the end).

    ``filters`` are ``(attribute, operator, value)`` with operator ``=``, ``<``, ``>``, ``begins_with``,
    ``contains``; the query keeps reading until ``limit`` items pass them.
    """
    pk_name, sk_name = ("PK", "SK") if index is None else (f"{index}PK", f"{index}SK")
    names = {"#pk": pk_name}
    values: dict[str, Any] = {":pk": partition}
    condition = "#pk = :pk"
    if sort_prefix or sort_before:
        names["#sk"] = sk_name
        condition += " AND begins_with(#sk, :sk)" if sort_prefix else " AND #sk < :sk"
        values[":sk"] = sort_prefix or sort_before
    clauses = []
    for position, (attribute, operator, value) in enumerate(filters):
        names[f"#f{position}"] = attribute
        values[f":f{position}"] = value
        if operator in ("begins_with", "contains"):
            clauses.append(f"{operator}(#f{position}, :f{position})")
        else:
            clauses.append(f"#f{position} {operator} :f{position}")
    params: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": serialize(values),
    }
    if index:
        params["IndexName"] = index
    if clauses:
        params["FilterExpression"] = " AND ".join(clauses)
    key_names = ("PK", "SK") if index is None else ("PK", "SK", pk_name, sk_name)
    items: list[dict[str, Any]] = []
    exclusive = serialize(start_key) if start_key else None
    client = dynamodb()
    while True:
        if exclusive:
            params["ExclusiveStartKey"] = exclusive
        params["Limit"] = max(limit - len(items), 1) if not clauses else max(limit, 50)
        response = client.query(**params)
        for raw in response.get("Items", []):
            items.append(deserialize(raw))
            if len(items) == limit:
                last = items[-1]
                return items, {name: last[name] for name in key_names}
        exclusive = response.get("LastEvaluatedKey")
        if not exclusive:
            return items, None


def query_all(
    *, index: str | None, partition: str, sort_prefix: str | None = None, sort_before: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of a partition, optionally only sort keys with a prefix or before a bound (paginated Query)."""
    start: dict[str, Any] | None = None
    while True:
        items, start = query_page(
            index=index,
            partition=partition,
            sort_prefix=sort_prefix,
            sort_before=sort_before,
            limit=500,
            start_key=start,
        )
        yield from items
        if start is None:
            return


# ---------------------------------------------------------------- coverage counters


def page_contribution(page: Mapping[str, Any] | None) -> Counter[str]:
    """What one page adds to its institution's ``page_stats`` (nothing when archived)."""
    if page is None or page["status"] != "active":
        return Counter()
    checklist = page.get("checklist") or {}
    gov_mark = bool((checklist.get("gov_mark") or {}).get("value"))
    return Counter(
        {
            "pages": 1,
            f"pages_{page['platform']}": 1,
            "gov_mark": int(gov_mark),
            f"c_{bucket(int(page.get('compliance_pct') or 0))}": 1,
        }
    )


def institution_contribution(institution: Mapping[str, Any] | None) -> Counter[tuple[str, str, str]]:
    """What an institution (with its page stats) adds to coverage counters: ``(region, sort key, attribute)``."""
    if institution is None or institution["status"] != "active":
        return Counter()
    stats = Counter({key: int(value) for key, value in (institution.get("page_stats") or {}).items()})
    values = Counter(stats)
    values["institutions"] = 1
    values["with_pages"] = int(stats["pages"] > 0)
    values["exempt"] = int(stats["pages"] == 0 and bool(institution.get("no_page_reason")))
    result: Counter[tuple[str, str, str]] = Counter()
    for sort_key in ("ALL", *(f"{SPHERE_PREFIX}{sphere}" for sphere in institution["spheres"])):
        for attribute, value in values.items():
            if value:
                result[(institution["region_code"], sort_key, attribute)] += value
    return result


# ---------------------------------------------------------------- writes


@dataclass
class Unit:
    """One institution's change (before/after) with some of its pages' changes, committed atomically."""

    institution_before: dict[str, Any] | None
    institution_after: dict[str, Any]
    pages: list[tuple[dict[str, Any] | None, dict[str, Any]]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    tag: Any = None

    def items(self) -> list[dict[str, Any]]:
        """The transaction items of this unit (counters and outbox excluded)."""
        before, after = self.institution_before, self.institution_after
        result = []
        if before != after:
            result.append(_put(institution_item(after), before))
            result.extend(_guard_swap("OGRN", before and before["ogrn"], after["ogrn"], after["id"]))
        for page_before, page_after in self.pages:
            if page_before == page_after:
                continue
            old = page_before or {}
            result.append(_put(page_item(page_after), page_before))
            result.extend(_guard_swap("PAGEURL", old.get("url_key"), page_after["url_key"], page_after["id"]))
            result.extend(_guard_swap("VKGROUP", old.get("group_id"), page_after.get("group_id"), page_after["id"]))
        return result

    def counters(self) -> Counter[tuple[str, str, str]]:
        """Counter deltas of this unit."""
        delta = institution_contribution(self.institution_after)
        delta.subtract(institution_contribution(self.institution_before))
        return Counter({key: value for key, value in delta.items() if value})


def _put(item: Mapping[str, Any], before: Mapping[str, Any] | None) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table(), "Item": serialize(item)}
    if before is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "revision = :revision"
        put["ExpressionAttributeValues"] = serialize({":revision": before["revision"]})
    return {"Put": put}


def _guard_swap(kind: str, old: Any, new: Any, owner_id: str) -> list[dict[str, Any]]:
    if old == new:
        return []
    items: list[dict[str, Any]] = []
    if old is not None:
        items.append(
            {
                "Delete": {
                    "TableName": table(),
                    "Key": serialize(guard_key(kind, old)),
                    "ConditionExpression": "owner_id = :owner",
                    "ExpressionAttributeValues": serialize({":owner": owner_id}),
                }
            }
        )
    if new is not None:
        items.append(
            {
                "Put": {
                    "TableName": table(),
                    "Item": serialize({**guard_key(kind, new), "owner_id": owner_id, "entity": "guard"}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        )
    return items


def _counter_updates(delta: Counter[tuple[str, str, str]]) -> list[dict[str, Any]]:
    by_item: dict[tuple[str, str], dict[str, int]] = {}
    for (region_code, sort_key, attribute), value in delta.items():
        if value:
            by_item.setdefault((region_code, sort_key), {})[attribute] = value
    updates = []
    for (region_code, sort_key), attributes in sorted(by_item.items()):
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        values = {f":v{i}": value for i, value in enumerate(attributes.values())}
        updates.append(
            {
                "Update": {
                    "TableName": table(),
                    "Key": serialize(counter_key(region_code, sort_key)),
                    "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(attributes))),
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": serialize(values),
                }
            }
        )
    return updates


@dataclass
class OutboxEntry:
    """An outbox item written with a committed change, and its events."""

    key: dict[str, str]
    events: list[Event]


def _outbox_put(events: Sequence[Event]) -> tuple[dict[str, Any], OutboxEntry]:
    sort_key = f"{now_iso()}#{new_id()}"
    key = {"PK": f"OUTBOX#{int(sort_key[-4:], 16) % OUTBOX_SHARDS}", "SK": sort_key}
    item = {**key, "entity": "outbox", "events": [event.model_dump_json() for event in events]}
    return {"Put": {"TableName": table(), "Item": serialize(item)}}, OutboxEntry(key=key, events=list(events))


class UnitFailed(Exception):
    """A unit could not be committed (a condition failed: duplicate or concurrent change)."""

    def __init__(self, unit: Unit, reason: str) -> None:
        super().__init__(reason)
        self.unit = unit
        self.reason = reason


def _transaction(units: Sequence[Unit]) -> tuple[list[dict[str, Any]], list[int], OutboxEntry | None]:
    items: list[dict[str, Any]] = []
    owners: list[int] = []
    delta: Counter[tuple[str, str, str]] = Counter()
    events: list[Event] = []
    for position, unit in enumerate(units):
        unit_items = unit.items()
        items.extend(unit_items)
        owners.extend([position] * len(unit_items))
        delta.update(unit.counters())
        events.extend(unit.events)
    items.extend(_counter_updates(delta))
    entry = None
    if events:
        put, entry = _outbox_put(events)
        items.append(put)
    return items, owners, entry


def _failed_positions(error: Exception, owners: Sequence[int]) -> set[int]:
    reasons = getattr(error, "response", {}).get("CancellationReasons") or []
    return {
        owners[index]
        for index, reason in enumerate(reasons)
        if index < len(owners) and reason.get("Code") == "ConditionalCheckFailed"
    }


def _is_transaction_conflict(error: Exception) -> bool:
    reasons = getattr(error, "response", {}).get("CancellationReasons") or []
    return any(reason.get("Code") == "TransactionConflict" for reason in reasons)


def commit(units: Sequence[Unit]) -> tuple[list[OutboxEntry], list[UnitFailed]]:
    """Commit units packed into as few transactions as fit 25 items; return outbox entries and failed units.

    A cancelled transaction is retried without the units whose conditions failed (those are reported, the others
    still commit); a conflict with a concurrent transaction is retried with backoff.
    """
    entries: list[OutboxEntry] = []
    failures: list[UnitFailed] = []
    for group in _pack(units):
        pending = list(group)
        attempt = 0
        while pending:
            items, owners, entry = _transaction(pending)
            if not items:
                break
            try:
                dynamodb().transact_write_items(TransactItems=items)  # type: ignore[arg-type]
            except Exception as error:
                if _is_transaction_conflict(error) and attempt < 6:
                    attempt += 1
                    time.sleep(0.02 * 2**attempt)
                    continue
                if not is_conditional_failure(error):
                    raise
                failed = _failed_positions(error, owners)
                if not failed and len(pending) > 1:
                    for unit in pending:  # no per-item reasons: find the culprits one unit at a time
                        sub_entries, sub_failures = commit([unit])
                        entries.extend(sub_entries)
                        failures.extend(sub_failures)
                    break
                failed = failed or {0}
                failures.extend(UnitFailed(pending[i], "conflict") for i in sorted(failed))
                pending = [unit for i, unit in enumerate(pending) if i not in failed]
                continue
            if entry:
                entries.append(entry)
            break
    return entries, failures


def commit_one(unit: Unit) -> list[OutboxEntry]:
    """Commit one unit or raise ``ConflictError``."""
    entries, failures = commit([unit])
    if failures:
        raise ConflictError("changed concurrently or duplicate key, retry")
    return entries


def _pack(units: Sequence[Unit]) -> Iterator[list[Unit]]:
    group: list[Unit] = []
    institutions: set[str] = set()
    size = 0
    counter_keys: set[tuple[str, str]] = set()
    for unit in units:
        unit_size = len(unit.items())
        unit_counters = {(region, sk) for region, sk, _ in unit.counters()}
        new_counters = counter_keys | unit_counters
        total = size + unit_size + len(new_counters) + 1
        if group and (total > MAX_TRANSACTION_ITEMS or unit.institution_after["id"] in institutions):
            yield group
            group, institutions, size, counter_keys = [], set(), 0, set()
            new_counters = unit_counters
        group.append(unit)
        institutions.add(unit.institution_after["id"])
        size += unit_size
        counter_keys = new_counters
    if group:
        yield group


def put_item(item: Mapping[str, Any]) -> None:
    """Write one item unconditionally (settings)."""
    dynamodb().put_item(TableName=table(), Item=serialize(item))


def delete_items(keys: Iterable[Mapping[str, str]]) -> None:
    """Delete items in BatchWriteItem requests (unprocessed ones retried)."""
    name = table()
    for chunk in chunked(keys, 25):
        _batch_write(name, [{"DeleteRequest": {"Key": serialize(key)}} for key in chunk])


def write_bulk(units: Sequence[Unit]) -> list[OutboxEntry]:
    """Write units with BatchWriteItem (bulk import): outbox item first, then items, then counter deltas.

    No conditions: the caller has read the guards just before, and the last writer wins against a concurrent
    change. The outbox item is written first so a crash midway can only publish events early, never lose them;
    the importer's deterministic ids make a retried import converge on the same items.
    """
    entries = []
    for events in chunked((event for unit in units for event in unit.events), OUTBOX_EVENTS_PER_ITEM):
        put, entry = _outbox_put(events)
        dynamodb().put_item(**put["Put"])
        entries.append(entry)
    requests: dict[tuple[str, str], dict[str, Any]] = {}
    delta: Counter[tuple[str, str, str]] = Counter()
    for unit in units:
        for item in unit.items():
            if "Put" in item:
                stored = item["Put"]["Item"]
                requests[(stored["PK"]["S"], stored["SK"]["S"])] = {"PutRequest": {"Item": stored}}
            else:
                key = item["Delete"]["Key"]
                requests[(key["PK"]["S"], key["SK"]["S"])] = {"DeleteRequest": {"Key": key}}
        delta.update(unit.counters())
    name = table()
    with ThreadPoolExecutor(max_workers=BULK_WRITE_THREADS) as pool:  # boto3 clients are thread-safe
        list(pool.map(lambda chunk: _batch_write(name, chunk), chunked(requests.values(), 25)))
    client = dynamodb()
    for update in _counter_updates(delta):
        client.update_item(**update["Update"])
    return entries


def _batch_write(table_name: str, chunk: list[dict[str, Any]]) -> None:
    """One BatchWriteItem of at most 25 requests, retrying unprocessed items with backoff."""
    pending: dict[str, Any] = {table_name: chunk}
    for attempt in range(10):
        pending = dict(dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})
        if not pending:
            return
        time.sleep(0.05 * 2**attempt)
    raise UnavailableError("the table did not accept the writes, retry the import")
