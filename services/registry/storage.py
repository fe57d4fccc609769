"""DynamoDB mechanics over one table that know nothing of its layout: ``repository`` names the keys and indexes.

Batched reads and writes retry what the table left unprocessed. A list page reads labelled ``Source``s in order
(one per region, say) under a ``RequestBudget``: it stops when it has ``limit`` items or when the budget is spent,
and returns one opaque cursor naming the source and the key to continue from (a short page with a cursor means
"more may follow"). A cursor is checked against the exact key shape and partition of the source it names before
it reaches DynamoDB. Only operations YDB's Document API also has: no Scan, no PartiQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.dynamo import chunked, decode_cursor, deserialize, encode_cursor, is_conditional_failure, serialize
from shared.errors import BadRequestError, UnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_KEYS = 100
BATCH_WRITE_REQUESTS = 25
QUERY_ALL_PAGE = 500
REFERENCES_PER_QUERY = 100  # one BatchGetItem reads the targets of one query's references
FILTERED_READ_FACTOR = 4  # items a filtered Query evaluates per item still missing, at first
FILTERED_READ_MIN = 50
SOURCE_LABEL = "r"

Item = dict[str, Any]
Filter = tuple[str, str, Any]
"""``(attribute, operator, value)`` with operator ``=``, ``<``, ``>``, ``begins_with`` or ``contains``."""
Accept = Callable[[Item], bool]


class RequestBudget:
    """The DynamoDB requests one list page may still send."""

    def __init__(self, requests: int) -> None:
        self.left = requests

    def spend(self) -> None:
        """Count one request."""
        self.left -= 1


@dataclass(frozen=True)
class Partition:
    """The items of one partition key value, of the table or of an index, in sort key order.

    ``sort_prefix`` keeps sort keys with that prefix, ``sort_before`` those below it; ``filters`` apply after.
    """

    key: tuple[str, str]
    sort_attribute: str
    index: str | None = None
    sort_prefix: str | None = None
    sort_before: str | None = None
    filters: Sequence[Filter] = ()

    def holds(self, sort_key: str) -> bool:
        """True if a sort key lies in the partition's key range."""
        if self.sort_prefix is not None and not sort_key.startswith(self.sort_prefix):
            return False
        return self.sort_before is None or sort_key < self.sort_before


class Source(Protocol):
    """Something a list page reads in order: an index partition, references to items, ..."""

    def position(self, cursor: str) -> Item:
        """Where a cursor naming this source continues (``{}``: the start); 400 unless it has this source's shape."""
        ...

    def read(self, *, limit: int, position: Item, budget: RequestBudget) -> tuple[list[Item], Item | None]:
        """Up to ``limit`` items from ``position`` and the position after them (``None``: nothing is left)."""
        ...


class Table:
    """One table through a low-level client; ``key_attributes`` are its partition and sort key attributes."""

    def __init__(self, *, client: DynamoDBClient, name: str, key_attributes: tuple[str, str]) -> None:
        self.client = client
        self.name = name
        self.key_attributes = key_attributes

    def key_of(self, item: Mapping[str, Any]) -> tuple[Any, ...]:
        """An item's primary key values."""
        return tuple(item[name] for name in self.key_attributes)

    def get(self, key: Mapping[str, Any], *, consistent: bool = True) -> Item | None:
        """One item, or ``None``."""
        response = self.client.get_item(TableName=self.name, Key=serialize(key), ConsistentRead=consistent)
        item = response.get("Item")
        return deserialize(item) if item else None

    def batch_get(self, keys: Iterable[Mapping[str, Any]], *, budget: RequestBudget | None = None) -> list[Item]:
        """The existing items of many keys (BatchGetItem, consistent, 100 keys a request, unprocessed keys retried)."""
        unique = list({self.key_of(key): key for key in keys}.values())
        found: list[Item] = []
        for chunk in chunked(unique, BATCH_GET_KEYS):
            request: dict[str, Any] = {self.name: {"Keys": [serialize(key) for key in chunk], "ConsistentRead": True}}
            for attempt in range(8):
                if budget is not None:
                    budget.spend()
                response = self.client.batch_get_item(RequestItems=request)
                found.extend(deserialize(raw) for raw in response.get("Responses", {}).get(self.name, []))
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
        return found

    def query_page(
        self,
        partition: Partition,
        *,
        limit: int,
        start_key: Mapping[str, Any] | None = None,
        budget: RequestBudget | None = None,
        accept: Accept | None = None,
    ) -> tuple[list[Item], Item | None]:
        """Up to ``limit`` items that pass the filters and ``accept``, and the key to continue from.

        The key is ``None`` at the end of the partition, ``{}`` for its start (the budget was spent before the first
        request). Without filters a request asks for just the items still missing. With filters it evaluates
        ``FILTERED_READ_FACTOR`` times as many (at least ``FILTERED_READ_MIN``), twice as many again with every
        further request, so a sparse match costs few requests without reading far past a dense one.
        """
        params = self._query_params(partition)
        filtered = "FilterExpression" in params or accept is not None
        key_names = list(dict.fromkeys((*self.key_attributes, partition.key[0], partition.sort_attribute)))
        items: list[Item] = []
        exclusive = serialize(start_key) if start_key else None
        read = max(limit * FILTERED_READ_FACTOR, FILTERED_READ_MIN)
        while True:
            if budget is not None:
                if budget.left <= 0:
                    return items, deserialize(exclusive) if exclusive else {}
                budget.spend()
            if exclusive:
                params["ExclusiveStartKey"] = exclusive
            params["Limit"] = read if filtered else limit - len(items)
            read *= 2
            response = self.client.query(**params)
            for raw in response.get("Items", []):
                item = deserialize(raw)
                if accept is not None and not accept(item):
                    continue
                items.append(item)
                if len(items) == limit:
                    return items, {name: item[name] for name in key_names}
            exclusive = response.get("LastEvaluatedKey")
            if not exclusive:
                return items, None

    def _query_params(self, partition: Partition) -> dict[str, Any]:
        names = {"#pk": partition.key[0]}
        values: dict[str, Any] = {":pk": partition.key[1]}
        condition = "#pk = :pk"
        if partition.sort_prefix or partition.sort_before:
            names["#sk"] = partition.sort_attribute
            condition += " AND begins_with(#sk, :sk)" if partition.sort_prefix else " AND #sk < :sk"
            values[":sk"] = partition.sort_prefix or partition.sort_before
        clauses = []
        for position, (attribute, operator, value) in enumerate(partition.filters):
            names[f"#f{position}"] = attribute
            values[f":f{position}"] = value
            if operator in ("begins_with", "contains"):
                clauses.append(f"{operator}(#f{position}, :f{position})")
            else:
                clauses.append(f"#f{position} {operator} :f{position}")
        params: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": serialize(values),
        }
        if partition.index:
            params["IndexName"] = partition.index
        if clauses:
            params["FilterExpression"] = " AND ".join(clauses)
        return params

    def query_all(self, partition: Partition) -> Iterator[Item]:
        """Every item of a partition that passes its filters (paginated Query)."""
        start: Item | None = None
        while True:
            items, start = self.query_page(partition, limit=QUERY_ALL_PAGE, start_key=start)
            yield from items
            if start is None:
                return

    def put(self, item: Mapping[str, Any]) -> None:
        """Write one item unconditionally."""
        self.client.put_item(TableName=self.name, Item=serialize(item))

    def put_if(self, item: Mapping[str, Any], *, condition: str, values: Mapping[str, Any]) -> bool:
        """Write one item if the stored one meets ``condition``; ``False`` if it did not."""
        return _unless_condition_fails(
            lambda: self.client.put_item(
                TableName=self.name,
                Item=serialize(item),
                ConditionExpression=condition,
                ExpressionAttributeValues=serialize(values),
            )
        )

    def delete_if(self, key: Mapping[str, Any], *, condition: str, values: Mapping[str, Any]) -> bool:
        """Delete one item if it meets ``condition``; ``False`` if it did not (or does not exist)."""
        return _unless_condition_fails(
            lambda: self.client.delete_item(
                TableName=self.name,
                Key=serialize(key),
                ConditionExpression=condition,
                ExpressionAttributeValues=serialize(values),
            )
        )

    def add(self, key: Mapping[str, Any], amounts: Mapping[str, int]) -> None:
        """Add to number attributes of one item (``ADD``: a missing item or attribute starts at zero)."""
        self.client.update_item(**add_request(self.name, key, amounts))

    def batch_write(self, requests: Iterable[Mapping[str, Any]], *, threads: int = 1) -> None:
        """``PutRequest``/``DeleteRequest``s in BatchWriteItem calls of 25, from up to ``threads`` threads."""
        chunks = chunked(requests, BATCH_WRITE_REQUESTS)
        if threads == 1:
            for chunk in chunks:
                self._batch_write(chunk)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:  # boto3 clients are thread-safe
            list(pool.map(self._batch_write, chunks))

    def _batch_write(self, chunk: list[Mapping[str, Any]]) -> None:
        pending: dict[str, Any] = {self.name: chunk}
        for attempt in range(10):
            pending = dict(self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {})
            if not pending:
                return
            time.sleep(0.05 * 2**attempt)
        raise UnavailableError("the table did not accept the writes, retry the import")


def add_request(table: str, key: Mapping[str, Any], amounts: Mapping[str, int]) -> dict[str, Any]:
    """The UpdateItem parameters that add ``amounts`` to one item's number attributes."""
    return {
        "TableName": table,
        "Key": serialize(key),
        "UpdateExpression": "ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(amounts))),
        "ExpressionAttributeNames": {f"#a{i}": name for i, name in enumerate(amounts)},
        "ExpressionAttributeValues": serialize({f":v{i}": value for i, value in enumerate(amounts.values())}),
    }


def cursor_contents(cursor: str) -> Item:
    """Everything a cursor holds, unchecked (400 if it is not a cursor at all)."""
    return deserialize(decode_cursor(cursor) or {})


def position_in(
    partition: Partition, cursor: str, *, key_attributes: Sequence[str], labels: Sequence[str] = ()
) -> Item:
    """The key a cursor continues a partition from: exactly the partition's key attributes, in its key range."""
    if set(cursor_contents(cursor)) <= {SOURCE_LABEL, *labels}:
        return {}
    shape: dict[str, str | None] = dict.fromkeys(key_attributes)
    shape |= {partition.key[0]: partition.key[1], partition.sort_attribute: None}
    key = deserialize(decode_cursor(cursor, shape=shape, optional=(SOURCE_LABEL, *labels)) or {})
    if not partition.holds(key[partition.sort_attribute]):
        raise BadRequestError("cursor does not belong to this query", field="cursor")
    return {name: value for name, value in key.items() if name in shape}


class IndexSource:
    """The items of one partition (of the table or an index) that pass its filters and ``accept``."""

    def __init__(self, table: Table, partition: Partition, *, accept: Accept | None = None) -> None:
        self.table = table
        self.partition = partition
        self.accept = accept

    def position(self, cursor: str) -> Item:
        """Where a cursor of this partition continues."""
        return position_in(self.partition, cursor, key_attributes=self.table.key_attributes)

    def read(self, *, limit: int, position: Item, budget: RequestBudget) -> tuple[list[Item], Item | None]:
        """Up to ``limit`` items from ``position``."""
        return self.table.query_page(self.partition, limit=limit, start_key=position, budget=budget, accept=self.accept)


class ReferenceSource:
    """Items referenced by the items of one partition (an index kept as items), in the references' order.

    ``target`` gives the key a reference points to (``None`` skips it), ``accept`` decides on a reference and the
    item it found. Each round is one Query of ``REFERENCES_PER_QUERY`` references and one BatchGetItem of their
    targets, so a page costs two requests per round. ``first`` is a round's references already read.
    """

    def __init__(
        self,
        table: Table,
        partition: Partition,
        *,
        target: Callable[[Item], Mapping[str, Any] | None],
        accept: Callable[[Item, Item], bool],
        first: tuple[list[Item], Item | None] | None = None,
    ) -> None:
        self.table = table
        self.partition = partition
        self.target = target
        self.accept = accept
        self.first = first

    def position(self, cursor: str, *, labels: Sequence[str] = ()) -> Item:
        """Where a cursor of this partition continues."""
        return position_in(self.partition, cursor, key_attributes=self.table.key_attributes, labels=labels)

    def read(self, *, limit: int, position: Item, budget: RequestBudget) -> tuple[list[Item], Item | None]:
        """Up to ``limit`` accepted targets from ``position``; the position is the last reference consumed."""
        found: list[Item] = []
        chunk, self.first = self.first, None
        while True:
            if chunk is None:
                if budget.left < 2:
                    return found, position
                chunk = self.table.query_page(
                    self.partition, limit=REFERENCES_PER_QUERY, start_key=position, budget=budget
                )
            references, after = chunk
            chunk = None
            keys = [self.target(reference) for reference in references]
            wanted = [key for key in keys if key is not None]
            by_key = {self.table.key_of(item): item for item in self.table.batch_get(wanted, budget=budget)}
            for reference, key in zip(references, keys, strict=True):
                position = {name: reference[name] for name in self.table.key_attributes}
                item = by_key.get(self.table.key_of(key)) if key is not None else None
                if item is not None and self.accept(reference, item):
                    found.append(item)
                    if len(found) == limit:
                        return found, position
            if after is None:
                return found, None
            position = after


def read_across(
    sources: Sequence[tuple[str, Source]], *, limit: int, cursor: str | None, budget: RequestBudget
) -> tuple[list[Item], str | None]:
    """One page of labelled sources read in order, and one opaque cursor for all of them."""
    labels = [label for label, _ in sources]
    first, position = 0, {}
    if cursor:
        label = cursor_contents(cursor).get(SOURCE_LABEL)
        if label not in labels:
            raise BadRequestError("cursor does not belong to this query", field="cursor")
        first = labels.index(label)
        position = sources[first][1].position(cursor)
    items: list[Item] = []
    for label, source in sources[first:]:
        if budget.left <= 0:
            return items, _cursor(label, position)
        found, after = source.read(limit=limit - len(items), position=position, budget=budget)
        items.extend(found)
        if after is not None:
            return items, _cursor(label, after)
        position = {}
        if len(items) >= limit:
            following = labels.index(label) + 1
            return items, _cursor(labels[following], {}) if following < len(labels) else None
    return items, None


def _cursor(label: str, position: Mapping[str, Any]) -> str | None:
    return encode_cursor(serialize({SOURCE_LABEL: label, **position}))


def _unless_condition_fails(write: Callable[[], object]) -> bool:
    """Run a conditional write; ``False`` if its condition failed (other errors propagate)."""
    try:
        write()
    except Exception as error:  # botocore's ClientError
        if is_conditional_failure(error):
            return False
        raise
    return True
