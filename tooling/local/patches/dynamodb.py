"""DynamoDB patches (moto 5.2.5): transactions that back up items, not tables; serialized writes; a journal hook.

What moto 5.2.5 does and why it is patched:

* ``DynamoDBBackend.transact_write_items`` deep-copies the whole table, once per item of the transaction, so that
  it can put the copy back if the transaction is cancelled. A TransactWriteItems therefore costs
  O(items x table size) time and memory; on a table of a few thousand items every transaction takes tens to
  hundreds of milliseconds and the copies dominate the process's memory. The replacement below keeps moto's
  checks, order, errors and cancellation reasons, but backs up only the items the transaction touches (a deep copy
  of each, taken before its operation runs) and restores just those when it is cancelled.
* moto serves requests from many threads and takes no lock: a conditional write checks, then writes, and another
  request can run in between, so two transactions can both pass a uniqueness condition. Restoring the whole table
  after a cancellation also threw away the writes other requests made meanwhile. Here every read and write of the
  DynamoDB backend holds one process-wide re-entrant lock, so writes and transactions are atomic towards each other
  and reads never see a transaction half-applied.
* ``Table.query`` sorts every item of the table (``all_items()``, O(n log n) comparisons of ``DynamoType``) and then
  keeps those of the requested partition - for the base table and for every index. A query for one item of a
  20,000-item table took 400 ms; a GSI query of 100 items 500 ms. Here a query runs on a view of the table holding
  only the requested partition: the base table's (or a local index's) straight from its item dict, a global index's
  from ``GsiPartitions``, which files every item under its index hash key as items are put, updated and deleted.
  moto's own code still filters, sorts, pages and projects that partition, so results are unchanged (the view's
  ``all_items`` skips moto's pre-sort by table key, which the query re-sorts anyway).
* ``DynamoType`` compares and hashes through ``cast_value``, five type checks per operand, even for strings: a sort
  of a 2,000-item GSI partition made 200,000 such calls (1.3 s). Two strings now compare as strings, as
  ``cast_value`` would have them; everything else still goes through moto.
* The JSON response serializer walks the botocore shape of every ``AttributeValue`` - a structure of ten members,
  each looked up through an attribute picker - so a Query of 100 items spends ~150 ms serializing them. DynamoDB's
  responses use ``AttributeValueSerializer`` instead, which writes an ``AttributeValue`` as it is (binaries in
  base64, strings as strings), the output moto's walk produces.
* Not a moto defect: each write request (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems)
  reports the keys it touched with their new images to ``observer.current()`` once it is done, still under the
  lock, so the local stack's journal sees writes in the order they were applied.

Stream records of a cancelled transaction are not withdrawn (the local stack uses no streams).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import operator
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core import serialize
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from tooling.local.patches import observer, replace
from tooling.local.patches.observer import Image

MAX_TRANSACTION_ITEMS = 100  # moto's (and DynamoDB's) limit
SNAPSHOT_CHUNK_ITEMS = 500  # items read per lock hold when copying a table out

LOCK = threading.RLock()
_unit = threading.local()

ItemSlot = tuple[str, DynamoType, DynamoType | None]  # table name, hash key, range key
Slot = tuple[DynamoType, DynamoType | None]  # hash key, range key (in one table)


def image(item: Item) -> Image:
    """The item in DynamoDB's JSON wire format (``Item.to_json`` deep-copies nested values and turns nested
    binaries into bytes, which JSON cannot hold)."""
    return {name: _wire(value) for name, value in item.attrs.items()}


def _wire(value: DynamoType) -> Image:
    kind, inner = value.type, value.value
    if kind == "M":
        return {"M": {name: _wire(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [_wire(member) for member in inner]}
    if kind == "B":
        return {"B": _base64(inner) if isinstance(inner, bytes) else inner}
    if kind == "BS":
        return {"BS": [_base64(member) if isinstance(member, bytes) else member for member in inner]}
    if kind in ("SS", "NS"):
        return {kind: list(inner)}
    return {kind: inner}


def key_of(table: Table, attributes: Image) -> Image:
    """The primary key attributes among ``attributes`` (an item or a key)."""
    names = [table.hash_key_attr, table.range_key_attr]
    return {name: attributes[name] for name in names if name and name in attributes}


@contextmanager
def _write_unit(backend: DynamoDBBackend) -> Iterator[None]:
    """Hold the lock; the outermost unit of a request reports every item its writes touched when it ends."""
    with LOCK:
        if getattr(_unit, "touched", None) is not None:
            yield
            return
        touched: dict[tuple[str, str], Image] = {}
        _unit.touched = touched
        try:
            yield
        finally:
            _unit.touched = None
            _report(backend, touched)


def _touch(backend: DynamoDBBackend, table_name: str, attributes: Any) -> None:
    touched = getattr(_unit, "touched", None)
    table = backend.tables.get(table_name)
    if touched is None or table is None or not isinstance(attributes, dict) or observer.current() is None:
        return  # nobody listens, or the request names no table or key (moto rejects it)
    key = key_of(table, attributes)
    touched[(table_name, json.dumps(key, sort_keys=True))] = key


def _report(backend: DynamoDBBackend, touched: dict[tuple[str, str], Image]) -> None:
    listener = observer.current()
    if listener is None or not touched:
        return
    by_table: dict[str, list[tuple[Image, Image | None]]] = {}
    for (table_name, _), key in touched.items():
        item = _get(backend, table_name, key)
        by_table.setdefault(table_name, []).append((key, image(item) if item else None))
    for table_name, changes in by_table.items():
        listener.items_changed(backend.tables[table_name].table_arn, changes)


def _get(backend: DynamoDBBackend, table_name: str, key: Image) -> Item | None:
    try:
        item: Item | None = backend.get_item(table_name, key)
    except Exception:  # a key without its range attribute (a rejected request): nothing was stored under it
        return None
    return item


def _writing(method: Callable[..., Any]) -> Callable[..., Any]:
    """A backend write (``put_item``, ``update_item``, ``delete_item``: table name, then item or key) as a unit."""

    @functools.wraps(method)
    def write(self: DynamoDBBackend, table_name: str, item_or_key: Image, *args: Any, **kwargs: Any) -> Any:
        with _write_unit(self):
            try:
                return method(self, table_name, item_or_key, *args, **kwargs)
            finally:
                _touch(self, table_name, item_or_key)

    return write


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def read(*args: Any, **kwargs: Any) -> Any:
        with LOCK:
            return method(*args, **kwargs)

    return read


def _request_unit(method: Callable[..., Any]) -> Callable[..., Any]:
    """A ``DynamoHandler`` write action as one unit: its reads (ReturnValues) and writes are atomic, one report."""

    @functools.wraps(method)
    def handle(self: DynamoHandler, *args: Any, **kwargs: Any) -> Any:
        with _write_unit(self.dynamodb_backend):
            return method(self, *args, **kwargs)

    return handle


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's ``transact_write_items`` with item-level rollback (see the module docstring)."""
    with _write_unit(self):
        if len(transact_items) > MAX_TRANSACTION_ITEMS:
            raise TooManyTransactionsException()
        originals: dict[ItemSlot, Item | None] = {}
        try:
            errors = _apply_transaction(self, transact_items, originals)
        except BaseException:
            _restore(self, originals)
            raise
        if any(code is not None for code, _, _ in errors):
            _restore(self, originals)
            raise TransactionCanceledException(errors)


def _apply_transaction(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]], originals: dict[ItemSlot, Item | None]
) -> list[tuple[str | None, str | None, Image | None]]:
    """Run every operation, backing up each item first; the cancellation reason of each (``None`` if it passed)."""
    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, Image | None]] = []
    for transact_item in transact_items:
        original_item: Image | None = None
        if len(transact_item) > 1:
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(transact_item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            table = backend.get_table(table_name)
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            condition = op.get("ConditionExpression")
            current = backend.get_item(table_name, key)
            if condition is not None and not get_filter_expression(condition, names, values).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                hash_key, range_key = backend.get_keys_value(table, key)
                originals.setdefault((table.name, hash_key, range_key), copy.deepcopy(current))
            # the condition held just now, under the lock: moto would parse and check it a second time here
            if op_type == "Put":
                backend.put_item(table_name, op["Item"])
            elif op_type == "Delete":
                backend.delete_item(table_name, key)
            elif op_type == "Update":
                backend.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            errors.append((None, None, None))
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), original_item))
        except MockValidationException:  # moto's behaviour: a validation error fails the request, not an item
            raise
        except Exception as error:  # moto's behaviour: any other failure cancels, its class name is the reason
            errors.append((type(error).__name__, str(error), original_item))
    return errors


def _restore(backend: DynamoDBBackend, originals: dict[ItemSlot, Item | None]) -> None:
    """Put every backed-up item back as it was (absent items are removed again)."""
    for (table_name, hash_key, range_key), original in originals.items():
        table = backend.get_table(table_name)
        items: Any = table.items  # hash -> item, or hash -> range -> item
        if range_key is None:
            if original is None:
                items.pop(hash_key, None)
            else:
                items[hash_key] = original
        else:
            partition = items[hash_key]
            if original is None:
                partition.pop(range_key, None)
                if not partition:
                    del items[hash_key]
            else:
                partition[range_key] = original
        _refile(table, hash_key, range_key)


# ------------------------------------------------------------ queries of one partition
def _stored(table: Table) -> list[tuple[Slot, Item]]:
    items: Any = table.items
    if table.range_key_attr:
        return [((h, r), item) for h, partition in items.items() for r, item in partition.items()]
    return [((h, None), item) for h, item in items.items()]


class GsiPartitions:
    """A table's items filed under each global secondary index's hash key value (moto keeps no such index)."""

    def __init__(self, table: Table) -> None:
        self.hash_attributes = {
            index.name: next(key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH")
            for index in table.global_indexes
        }
        self.partitions: dict[str, dict[DynamoType, dict[Slot, None]]] = {name: {} for name in self.hash_attributes}
        self._filed: dict[str, dict[Slot, DynamoType]] = {name: {} for name in self.hash_attributes}
        stored = _stored(table)
        for name, attribute in self.hash_attributes.items():
            partitions, filed = self.partitions[name], self._filed[name]
            for slot, item in stored:
                value = item.attrs.get(attribute)
                if value is not None:
                    filed[slot] = value
                    partitions.setdefault(value, {})[slot] = None

    def refile(self, slot: Slot, item: Item | None) -> None:
        """File the item now in ``slot`` (``None``: none) under its current index keys."""
        for name, attribute in self.hash_attributes.items():
            old = self._filed[name].pop(slot, None)
            if old is not None:
                partition = self.partitions[name][old]
                del partition[slot]
                if not partition:
                    del self.partitions[name][old]
            value = item.attrs.get(attribute) if item is not None else None
            if value is not None:
                self._filed[name][slot] = value
                self.partitions[name].setdefault(value, {})[slot] = None


_gsi_partitions: weakref.WeakKeyDictionary[Table, GsiPartitions] = weakref.WeakKeyDictionary()


def _gsi(table: Table) -> GsiPartitions:
    """The table's GSI partitions, built on its first GSI query (and again if its global indexes changed)."""
    partitions = _gsi_partitions.get(table)
    if partitions is None or set(partitions.hash_attributes) != {index.name for index in table.global_indexes}:
        partitions = _gsi_partitions[table] = GsiPartitions(table)
    return partitions


def _refile(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> None:
    partitions = _gsi_partitions.get(table)
    if partitions is not None:
        partitions.refile((hash_key, range_key), table.get_item(hash_key, range_key))


def _table_put_item(original: Callable[..., Item]) -> Callable[..., Item]:
    @functools.wraps(original)
    def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
        item = original(self, *args, **kwargs)
        _refile(self, item.hash_key, item.range_key)
        return item

    return put_item


def _table_delete_item(original: Callable[..., Item | None]) -> Callable[..., Item | None]:
    @functools.wraps(original)
    def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
        item = original(self, hash_key, range_key)
        _refile(self, hash_key, range_key)
        return item

    return delete_item


def _update_item(original: Callable[..., Item]) -> Callable[..., Item]:
    """``DynamoDBBackend.update_item``, refiling the item it changed in place."""

    @functools.wraps(original)
    def update_item(self: DynamoDBBackend, table_name: str, key: Image, *args: Any, **kwargs: Any) -> Item:
        try:
            return original(self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            if table is not None and _gsi_partitions.get(table) is not None:
                try:
                    hash_key, range_key = self.get_keys_value(table, key)
                except Exception:  # a malformed key: moto rejected the request, nothing changed
                    pass
                else:
                    _refile(table, hash_key, range_key)

    return update_item


def _partition_view(table: Table, hash_key: DynamoType | None, index_name: str | None, conditions: Any) -> Any:
    """A shallow copy of ``table`` holding only the items a query of this partition can return (``None``: all)."""
    items: Any = {}
    global_indexes = {index.name for index in table.global_indexes}
    if index_name in global_indexes:
        partitions = _gsi(table)
        values = dict(conditions or [])
        value = values.get(partitions.hash_attributes[index_name])
        if value is None:
            return None
        for hash_value, range_value in partitions.partitions[index_name].get(value, {}):
            item = table.get_item(hash_value, range_value)
            if range_value is None:
                items[hash_value] = item
            else:
                items.setdefault(hash_value, {})[range_value] = item
    else:  # the base table, or a local index (same partition key)
        if hash_key is None:
            return None
        stored: Any = table.items
        if hash_key in stored:
            items[hash_key] = stored[hash_key]
    view: Any = copy.copy(table)
    view.items = items
    view.all_items = functools.partial(_unsorted, view)  # the query sorts what it keeps
    return view


def _unsorted(table: Table) -> list[Item]:
    return [item for _, item in _stored(table)]


def _string_fast_path(original: Callable[[DynamoType, Any], Any], compare: Callable[[str, str], Any]) -> Any:
    """``DynamoType``'s comparison ``original``, done on the strings when both operands are strings."""

    @functools.wraps(original)
    def method(self: DynamoType, other: Any) -> Any:
        if self.type == "S" and getattr(other, "type", None) == "S":
            return compare(self.value, other.value)
        return original(self, other)

    return method


def _hash(original: Callable[[DynamoType], int]) -> Callable[[DynamoType], int]:
    @functools.wraps(original)
    def method(self: DynamoType) -> int:
        return hash(("S", self.value)) if self.type == "S" else original(self)

    return method


def _query(original: Callable[..., Any]) -> Callable[..., Any]:
    """``Table.query`` on the partition view (arguments as ``DynamoDBBackend.query`` passes them)."""

    @functools.wraps(original)
    def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        view = _partition_view(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        return original(self if view is None else view, hash_key, *args, **kwargs)

    return query


# ------------------------------------------------------------ response serialization
def attribute_value(value: Image) -> Image:
    """An ``AttributeValue`` (as ``dynamo_to_dict`` leaves it: binaries as bytes) in its JSON wire form."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": _base64(inner)}
    if kind == "BS":
        return {"BS": [_base64(member) for member in inner]}
    if kind == "M":
        return {"M": {name: attribute_value(member) for name, member in inner.items()}}
    if kind == "L":
        return {"L": [attribute_value(member) for member in inner]}
    if kind in ("SS", "NS"):
        return {kind: [str(member) for member in inner]}
    if kind in ("S", "N"):
        return {kind: str(inner)}
    return {kind: inner}  # BOOL, NULL


def _base64(value: str | bytes) -> str:
    return base64.b64encode(value.encode() if isinstance(value, str) else value).decode()


class AttributeValueSerializer(serialize.JSONSerializer):
    """moto's JSON serializer for DynamoDB, writing each ``AttributeValue`` at once instead of walking its shape."""

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and key and isinstance(value, dict) and len(value) == 1:
            serialized[self.get_serialized_name(shape, key)] = attribute_value(value)
            return
        super()._serialize_type_structure(serialized, value, shape, key)


# ------------------------------------------------------------ in-process access for the local stack's persistence
def _backend(account_id: str, region: str) -> DynamoDBBackend:
    backend: DynamoDBBackend = dynamodb_backends[account_id][region]
    return backend


def read_items(account_id: str, region: str, table_name: str) -> list[Image]:
    """Every item of a table, copied out in chunks so that writers wait at most one chunk."""
    backend = _backend(account_id, region)
    with LOCK:
        table = backend.get_table(table_name)
        if table.range_key_attr:
            slots = [(h, r) for h, partition in table.items.items() for r in partition]
        else:
            slots = [(h, None) for h in table.items]
    images: list[Image] = []
    for start in range(0, len(slots), SNAPSHOT_CHUNK_ITEMS):
        with LOCK:
            for hash_key, range_key in slots[start : start + SNAPSHOT_CHUNK_ITEMS]:
                item = table.get_item(hash_key, range_key)
                if item is not None:
                    images.append(image(item))
    return images


def write_items(account_id: str, region: str, table_name: str, images: list[Image]) -> None:
    """Put items straight into the backend (restoring state before anything else runs)."""
    backend = _backend(account_id, region)
    for item in images:
        backend.put_item(table_name, item)


def expire_items(account_id: str, region: str, table_name: str, attribute: str, now: int) -> int:
    """Delete the items whose numeric ``attribute`` is below ``now``, as DynamoDB's TTL does; how many."""
    backend = _backend(account_id, region)
    with LOCK:
        table = backend.get_table(table_name)
        partitions: Any = table.items.values() if table.range_key_attr else [table.items]
        expired = [
            key_of(table, image(item))
            for partition in partitions
            for item in partition.values()
            if (value := item.attrs.get(attribute)) is not None and value.type == "N" and float(value.value) < now
        ]
    for key in expired:
        backend.delete_item(table_name, key)
    return len(expired)


def install() -> None:
    """Replace moto's methods with the ones above."""
    serialize.SERVICE_SPECIFIC_SERIALIZERS["dynamodb"] = {"json": AttributeValueSerializer}
    for name, compare in (
        ("__eq__", operator.eq),
        ("__ne__", operator.ne),
        ("__lt__", operator.lt),
        ("__le__", operator.le),
        ("__gt__", operator.gt),
        ("__ge__", operator.ge),
    ):
        replace(DynamoType, name, _string_fast_path(getattr(DynamoType, name), compare))
    replace(DynamoType, "__hash__", _hash(DynamoType.__hash__))
    replace(Table, "query", _query(Table.query))
    replace(Table, "put_item", _table_put_item(Table.put_item))
    replace(Table, "delete_item", _table_delete_item(Table.delete_item))
    replace(DynamoDBBackend, "update_item", _update_item(DynamoDBBackend.update_item))
    replace(DynamoDBBackend, "transact_write_items", transact_write_items)
    for name in ("put_item", "update_item", "delete_item"):
        replace(DynamoDBBackend, name, _writing(getattr(DynamoDBBackend, name)))
    for name in ("get_item", "query", "scan"):
        replace(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    for name in ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items"):
        replace(DynamoHandler, name, _request_unit(getattr(DynamoHandler, name)))
    replace(DynamoHandler, "transact_get_items", _locked(DynamoHandler.transact_get_items))
