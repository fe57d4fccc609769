"""DynamoDB mechanics over one table that know nothing of its layout: ``repository`` names the keys and indexes.

Batched reads and writes retry what the table left unprocessed; a query pages through results until enough items
pass its filters and returns where to continue. Only operations YDB's Document API also has: no Scan, no PartiQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.dynamo import chunked, decode_cursor, deserialize, encode_cursor, serialize
from shared.errors import InvalidInputError, UnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_GET_KEYS = 100
BATCH_WRITE_REQUESTS = 25
QUERY_ALL_PAGE = 500

Item = dict[str, Any]
Filter = tuple[str, str, Any]
"""``(attribute, operator, value)`` with operator ``=``, ``<``, ``>``, ``begins_with`` or ``contains``."""


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


class Table:
    """One table through a low-level client; ``key_attributes`` are its partition and sort key attributes."""

    def __init__(self, *, client: DynamoDBClient, name: str, key_attributes: tuple[str, str]) -> None:
        self.client = client
        self.name = name
        self.key_attributes = key_attributes

    def get(self, key: Mapping[str, Any], *, consistent: bool = True) -> Item | None:
        """One item, or ``None``."""
        response = self.client.get_item(TableName=self.name, Key=serialize(key), ConsistentRead=consistent)
        item = response.get("Item")
        return deserialize(item) if item else None

    def batch_get(self, keys: Iterable[Mapping[str, Any]]) -> list[Item]:
        """The existing items of many keys (BatchGetItem, consistent, 100 keys a request, unprocessed keys retried)."""
        unique = list({tuple(key[name] for name in self.key_attributes): key for key in keys}.values())
        found: list[Item] = []
        for chunk in chunked(unique, BATCH_GET_KEYS):
            request: dict[str, Any] = {self.name: {"Keys": [serialize(key) for key in chunk], "ConsistentRead": True}}
            for attempt in range(8):
                response = self.client.batch_get_item(RequestItems=request)
                found.extend(deserialize(raw) for raw in response.get("Responses", {}).get(self.name, []))
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)
        return found

    def query_page(
        self, partition: Partition, *, limit: int, start_key: Mapping[str, Any] | None = None
    ) -> tuple[list[Item], Item | None]:
        """Up to ``limit`` items that pass the filters and the key to continue from (``None`` at the end)."""
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
        key_names = list(dict.fromkeys((*self.key_attributes, partition.key[0], partition.sort_attribute)))
        items: list[Item] = []
        exclusive = serialize(start_key) if start_key else None
        while True:
            if exclusive:
                params["ExclusiveStartKey"] = exclusive
            params["Limit"] = max(limit - len(items), 1) if not clauses else max(limit, 50)
            response = self.client.query(**params)
            for raw in response.get("Items", []):
                items.append(deserialize(raw))
                if len(items) == limit:
                    last = items[-1]
                    return items, {name: last[name] for name in key_names}
            exclusive = response.get("LastEvaluatedKey")
            if not exclusive:
                return items, None

    def query_all(self, partition: Partition) -> Iterator[Item]:
        """Every item of a partition that passes its filters (paginated Query)."""
        start: Item | None = None
        while True:
            items, start = self.query_page(partition, limit=QUERY_ALL_PAGE, start_key=start)
            yield from items
            if start is None:
                return

    def query_with_cursor(
        self, partition: Partition, *, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        """One page of a partition and the opaque cursor of the next (``None`` at the end)."""
        decoded = decode_cursor(cursor)
        items, last_key = self.query_page(partition, limit=limit, start_key=deserialize(decoded) if decoded else None)
        return items, encode_cursor(serialize(last_key)) if last_key else None

    def query_across(
        self, partitions: Sequence[tuple[str, Partition]], *, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        """One page of several labelled partitions read in order, with one opaque cursor for all of them."""
        labels = [label for label, _ in partitions]
        start_label, start_key = labels[0], None
        decoded = decode_cursor(cursor)
        if decoded:
            position = deserialize(decoded)
            start_label = str(position.pop("r", ""))
            start_key = position or None
            if start_label not in labels:
                raise InvalidInputError("malformed cursor", field="cursor")
        items: list[Item] = []
        first = labels.index(start_label)
        for offset, (label, partition) in enumerate(partitions[first:], start=first):
            found, last_key = self.query_page(
                partition, limit=limit - len(items), start_key=start_key if label == start_label else None
            )
            items.extend(found)
            if len(items) >= limit:
                if last_key:
                    return items, encode_cursor(serialize({"r": label, **last_key}))
                if offset + 1 < len(partitions):
                    return items, encode_cursor(serialize({"r": labels[offset + 1]}))
                return items, None
        return items, None

    def put(self, item: Mapping[str, Any]) -> None:
        """Write one item unconditionally."""
        self.client.put_item(TableName=self.name, Item=serialize(item))

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
