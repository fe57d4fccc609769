"""The registry's DynamoDB layout (one table) and the only module that knows it.

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
transactions of at most 25 items with their counters and one outbox item, so a change, its counters and its
events are atomic. Revisions guard against lost updates (``revision = :expected``). No Scan anywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from services.registry.counters import COUNTER_ATTRIBUTES, CounterKey, counter_delta
from services.registry.records import (
    CoverageCounters,
    InstitutionRecord,
    OutboxRecord,
    PageRecord,
    RegionSettingsRecord,
    Unit,
    name_key,
    new_id,
    now_iso,
)
from services.registry.storage import Filter, Item, Partition, Table, add_request
from shared.dynamo import chunked, serialize
from shared.events import Event, parse_event
from shared.transactions import MAX_TRANSACTION_ITEMS, ConditionFailed, transact_write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from services.registry.filters import InstitutionFilter, PageFilter

OUTBOX_SHARDS = 16
OUTBOX_EVENTS_PER_ITEM = 200  # ~1 KB an event; an item holds at most 400 KB
BULK_WRITE_THREADS = 8  # parallel BatchWriteItem calls of a bulk import
_META = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "entity", "name_key", "page_count"}


def _institution_key(institution_id: str) -> dict[str, str]:
    return {"PK": f"INST#{institution_id}", "SK": "A"}


def _page_key(page_id: str) -> dict[str, str]:
    return {"PK": f"PAGE#{page_id}", "SK": "A"}


def _guard_key(kind: str, value: str | int) -> dict[str, str]:
    return {"PK": f"{kind}#{value}", "SK": "A"}


def _counter_key(region_code: str, sphere: str | None) -> dict[str, str]:
    return {"PK": f"COVERAGE#{region_code}", "SK": "ALL" if sphere is None else f"SPHERE#{sphere}"}


def _region_settings_key(region_code: str) -> dict[str, str]:
    return {"PK": f"REGIONCFG#{region_code}", "SK": "A"}


def _outbox_key(outbox_id: str) -> dict[str, str]:
    return {"PK": f"OUTBOX#{int(outbox_id[-4:], 16) % OUTBOX_SHARDS}", "SK": outbox_id}


def _pair(key: Mapping[str, Any]) -> tuple[str, str]:
    return key["PK"], key["SK"]


def _institution_item(record: InstitutionRecord) -> Item:
    return {
        **record,
        **_institution_key(record["id"]),
        "entity": "institution",
        "name_key": name_key(record["name"]),
        "page_count": int((record.get("page_stats") or {}).get("pages", 0)),
        "GSI1PK": f"REGION#{record['region_code']}#INST",
        "GSI1SK": f"{record['status']}#{name_key(record['name'])}#{record['id']}",
    }


def _page_item(record: PageRecord) -> Item:
    return {
        **record,
        **_page_key(record["id"]),
        "entity": "page",
        "GSI1PK": f"REGION#{record['region_code']}#PAGE",
        "GSI1SK": f"{record['status']}#{record['platform']}#{record['category']}#{record['id']}",
        "GSI2PK": f"PAGES#{record['institution_id']}",
        "GSI2SK": f"{record['status']}#{record['platform']}#{record['id']}",
    }


def _institution_of(item: Item) -> InstitutionRecord:
    return cast(InstitutionRecord, {key: value for key, value in item.items() if key not in _META})


def _page_of(item: Item) -> PageRecord:
    return cast(PageRecord, {key: value for key, value in item.items() if key not in _META})


def _region_partition(region_code: str, kind: str, *, sort_prefix: str | None, filters: Sequence[Filter]) -> Partition:
    return Partition(
        key=("GSI1PK", f"REGION#{region_code}#{kind}"),
        sort_attribute="GSI1SK",
        index="GSI1",
        sort_prefix=sort_prefix,
        filters=filters,
    )


def _page_filters(where: PageFilter) -> list[Filter]:
    filters: list[Filter] = []
    if where.compliance_below is not None:
        filters.append(("compliance_pct", "<", where.compliance_below))
    if where.gov_mark is not None:
        filters.append(("gov_mark", "=", where.gov_mark))
    return filters


@dataclass
class CommitResult:
    """Outbox records of what was committed, and the units whose conditions failed (nothing of them written)."""

    outbox: list[OutboxRecord] = field(default_factory=list)
    failed: list[Unit] = field(default_factory=list)


class RegistryRepository:
    """Institutions, pages, their uniqueness guards, coverage counters, region settings and the outbox."""

    def __init__(self, *, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = Table(client=client, name=table, key_attributes=("PK", "SK"))

    # ------------------------------------------------------------ institutions

    def get_institution(self, institution_id: str, *, consistent: bool = True) -> InstitutionRecord | None:
        """One institution, or ``None``."""
        item = self._table.get(_institution_key(institution_id), consistent=consistent)
        return _institution_of(item) if item else None

    def get_institutions(self, institution_ids: Iterable[str]) -> dict[str, InstitutionRecord]:
        """The existing ones of many institutions, by id."""
        items = self._table.batch_get(_institution_key(institution_id) for institution_id in institution_ids)
        return {item["id"]: _institution_of(item) for item in items}

    def institutions_in_region(self, region_code: str) -> Iterator[InstitutionRecord]:
        """Every institution of a region, by status and name."""
        partition = _region_partition(region_code, "INST", sort_prefix=None, filters=())
        return (_institution_of(item) for item in self._table.query_all(partition))

    def list_institutions(
        self, *, region_codes: Sequence[str], where: InstitutionFilter, limit: int, cursor: str | None
    ) -> tuple[list[InstitutionRecord], str | None]:
        """A page of the regions' institutions (by name within a region, regions in the given order), next cursor."""
        filters: list[Filter] = []
        for attribute, operator, value in (
            ("kind", "=", where.kind),
            ("spheres", "contains", where.sphere),
            ("level", "=", where.level),
            ("parent_id", "=", where.parent_id),
        ):
            if value:
                filters.append((attribute, operator, value))
        if where.has_pages is not None:
            filters.append(("page_count", ">" if where.has_pages else "=", 0))
        prefix = name_key(where.name_prefix) if where.name_prefix else ""
        if prefix and not where.status:
            filters.append(("name_key", "begins_with", prefix))
        sort_prefix = f"{where.status}#{prefix}" if where.status else None
        partitions = [
            (code, _region_partition(code, "INST", sort_prefix=sort_prefix, filters=filters)) for code in region_codes
        ]
        items, next_cursor = self._table.query_across(partitions, limit=limit, cursor=cursor)
        return [_institution_of(item) for item in items], next_cursor

    # ------------------------------------------------------------ pages

    def get_page(self, page_id: str) -> PageRecord | None:
        """One page, or ``None``."""
        item = self._table.get(_page_key(page_id))
        return _page_of(item) if item else None

    def get_pages(self, page_ids: Iterable[str]) -> dict[str, PageRecord]:
        """The existing ones of many pages, by id."""
        return {item["id"]: _page_of(item) for item in self._table.batch_get(_page_key(i) for i in page_ids)}

    def pages_in_region(self, region_code: str) -> Iterator[PageRecord]:
        """Every page of a region."""
        partition = _region_partition(region_code, "PAGE", sort_prefix=None, filters=())
        return (_page_of(item) for item in self._table.query_all(partition))

    def active_pages_of(self, institution_id: str) -> list[PageRecord]:
        """An institution's active pages."""
        partition = Partition(
            key=("GSI2PK", f"PAGES#{institution_id}"), sort_attribute="GSI2SK", index="GSI2", sort_prefix="active#"
        )
        return [_page_of(item) for item in self._table.query_all(partition)]

    def list_pages(
        self, *, region_codes: Sequence[str], where: PageFilter, limit: int, cursor: str | None
    ) -> tuple[list[PageRecord], str | None]:
        """A page of the regions' pages (regions in the given order) and the next cursor."""
        filters = _page_filters(where)
        conditions = (("status", where.status), ("platform", where.platform), ("category", where.category))
        key_parts: list[str] = []
        for _, value in conditions:  # the sort key is status#platform#category#id: a prefix covers the leading ones
            if not value:
                break
            key_parts.append(value)
        filters.extend((attribute, "=", value) for attribute, value in conditions[len(key_parts) :] if value)
        sort_prefix = "#".join(key_parts) + "#" if key_parts else None
        partitions = [
            (code, _region_partition(code, "PAGE", sort_prefix=sort_prefix, filters=filters)) for code in region_codes
        ]
        items, next_cursor = self._table.query_across(partitions, limit=limit, cursor=cursor)
        return [_page_of(item) for item in items], next_cursor

    def list_institution_pages(
        self, *, institution_id: str, where: PageFilter, limit: int, cursor: str | None
    ) -> tuple[list[PageRecord], str | None]:
        """A page of one institution's pages and the next cursor."""
        filters = _page_filters(where)
        if where.category:
            filters.append(("category", "=", where.category))
        if where.platform and not where.status:
            filters.append(("platform", "=", where.platform))
        sort_prefix = None
        if where.status:
            sort_prefix = f"{where.status}#{where.platform}#" if where.platform else f"{where.status}#"
        partition = Partition(
            key=("GSI2PK", f"PAGES#{institution_id}"),
            sort_attribute="GSI2SK",
            index="GSI2",
            sort_prefix=sort_prefix,
            filters=filters,
        )
        items, next_cursor = self._table.query_with_cursor(partition, limit=limit, cursor=cursor)
        return [_page_of(item) for item in items], next_cursor

    # ------------------------------------------------------------ uniqueness guards

    def ogrn_owner(self, ogrn: str) -> str | None:
        """The id of the institution registered with this OGRN, if any."""
        return self._guard_owner("OGRN", ogrn)

    def url_owner(self, url_key: str) -> str | None:
        """The id of the page registered with this link (``validation.url_key``), if any."""
        return self._guard_owner("PAGEURL", url_key)

    def vk_group_owner(self, group_id: int) -> str | None:
        """The id of the page registered with this VK community, if any."""
        return self._guard_owner("VKGROUP", group_id)

    def ogrn_owners(self, ogrns: Iterable[str]) -> dict[str, str]:
        """Institution ids of the registered ones of many OGRNs."""
        return self._guard_owners("OGRN", ogrns)

    def url_owners(self, url_keys: Iterable[str]) -> dict[str, str]:
        """Page ids of the registered ones of many links."""
        return self._guard_owners("PAGEURL", url_keys)

    def vk_group_owners(self, group_ids: Iterable[int]) -> dict[int, str]:
        """Page ids of the registered ones of many VK communities."""
        return {int(value): owner for value, owner in self._guard_owners("VKGROUP", group_ids).items()}

    def _guard_owner(self, kind: str, value: str | int) -> str | None:
        item = self._table.get(_guard_key(kind, value))
        return str(item["owner_id"]) if item else None

    def _guard_owners(self, kind: str, values: Iterable[str | int]) -> dict[str, str]:
        items = self._table.batch_get(_guard_key(kind, value) for value in values)
        return {item["PK"].removeprefix(f"{kind}#"): item["owner_id"] for item in items}

    # ------------------------------------------------------------ coverage counters, region settings

    def coverage_counters(
        self, *, region_codes: Sequence[str], spheres: Sequence[str]
    ) -> dict[tuple[str, str | None], CoverageCounters]:
        """Counters of each region as a whole (sphere ``None``) and per sphere; empty where nothing was counted."""
        scopes = [(code, sphere) for code in region_codes for sphere in (None, *spheres)]
        found = {_pair(item): item for item in self._table.batch_get(_counter_key(*scope) for scope in scopes)}
        return {scope: _counters_of(found.get(_pair(_counter_key(*scope)), {})) for scope in scopes}

    def get_region_settings(self, region_code: str) -> RegionSettingsRecord | None:
        """A region's settings, if ever set."""
        item = self._table.get(_region_settings_key(region_code), consistent=False)
        return RegionSettingsRecord(region_code=region_code, posting_norms=item["posting_norms"]) if item else None

    def put_region_settings(self, record: RegionSettingsRecord) -> None:
        """Replace a region's settings."""
        key = _region_settings_key(record["region_code"])
        self._table.put({**key, "entity": "region_settings", "posting_norms": record["posting_norms"]})

    # ------------------------------------------------------------ writes

    def commit(self, units: Sequence[Unit]) -> CommitResult:
        """Commit units packed into as few transactions as fit 25 items.

        A transaction whose conditions failed is retried without the units that failed them (those are reported,
        the others still commit); a store that does not say which items failed is retried one unit at a time.
        Conflicts with concurrent transactions are retried by ``transact_write``.
        """
        result = CommitResult()
        for group in self._pack(units):
            self._commit_group(group, result)
        return result

    def write_bulk(self, units: Sequence[Unit]) -> list[OutboxRecord]:
        """Write units with BatchWriteItem (bulk import): outbox items first, then items, then counter deltas.

        No conditions: the caller has read the guards just before, and the last writer wins against a concurrent
        change. The outbox items are written first so a crash midway can only publish events early, never lose
        them; the importer's deterministic ids make a retried import converge on the same items.
        """
        outbox = []
        for events in chunked((event for unit in units for event in unit.events), OUTBOX_EVENTS_PER_ITEM):
            record = _new_outbox(events)
            self._table.put(_outbox_item(record))
            outbox.append(record)
        requests: dict[tuple[str, str], dict[str, Any]] = {}
        delta: Counter[CounterKey] = Counter()
        for unit in units:
            for item in self._unit_items(unit):
                if "Put" in item:
                    stored = item["Put"]["Item"]
                    requests[(stored["PK"]["S"], stored["SK"]["S"])] = {"PutRequest": {"Item": stored}}
                else:
                    key = item["Delete"]["Key"]
                    requests[(key["PK"]["S"], key["SK"]["S"])] = {"DeleteRequest": {"Key": key}}
            delta.update(counter_delta(unit))
        self._table.batch_write(requests.values(), threads=BULK_WRITE_THREADS)
        for key, amounts in _counter_changes(delta):
            self._table.add(key, amounts)
        return outbox

    # ------------------------------------------------------------ outbox

    def outbox_before(self, created_before: str) -> Iterator[OutboxRecord]:
        """Outbox records created before an ISO 8601 time, shard by shard."""
        for shard in range(OUTBOX_SHARDS):
            partition = Partition(key=("PK", f"OUTBOX#{shard}"), sort_attribute="SK", sort_before=created_before)
            for item in self._table.query_all(partition):
                yield OutboxRecord(id=item["SK"], events=[parse_event(raw) for raw in item.get("events", [])])

    def delete_outbox(self, records: Iterable[OutboxRecord]) -> None:
        """Forget outbox records whose events are published."""
        self._table.batch_write({"DeleteRequest": {"Key": serialize(_outbox_key(r["id"]))}} for r in records)

    # ------------------------------------------------------------ transactions of units

    def _commit_group(self, group: list[Unit], result: CommitResult) -> None:
        pending = list(group)
        while pending:
            items, owners, outbox = self._transaction(pending)
            if not items:
                return
            try:
                transact_write(self._client, items)
            except ConditionFailed as failure:
                failed = {owners[index] for index in failure.failed_positions if index < len(owners)}
                if not failed and len(pending) > 1:
                    for unit in pending:  # no per-item reasons: find the culprits one unit at a time
                        self._commit_group([unit], result)
                    return
                failed = failed or {0}
                result.failed.extend(pending[position] for position in sorted(failed))
                pending = [unit for position, unit in enumerate(pending) if position not in failed]
                continue
            if outbox:
                result.outbox.append(outbox)
            return

    def _transaction(self, units: Sequence[Unit]) -> tuple[list[Item], list[int], OutboxRecord | None]:
        """The items of one transaction of units, which unit each (unit) item belongs to, and its outbox record."""
        items: list[Item] = []
        owners: list[int] = []
        delta: Counter[CounterKey] = Counter()
        events: list[Event] = []
        for position, unit in enumerate(units):
            unit_items = self._unit_items(unit)
            items.extend(unit_items)
            owners.extend([position] * len(unit_items))
            delta.update(counter_delta(unit))
            events.extend(unit.events)
        items.extend(
            {"Update": add_request(self._table.name, key, amounts)} for key, amounts in _counter_changes(delta)
        )
        outbox = _new_outbox(events) if events else None
        if outbox:
            items.append({"Put": {"TableName": self._table.name, "Item": serialize(_outbox_item(outbox))}})
        return items, owners, outbox

    def _pack(self, units: Sequence[Unit]) -> Iterator[list[Unit]]:
        """Consecutive units that fit one transaction with their counters and outbox item (one per institution)."""
        group: list[Unit] = []
        institutions: set[str] = set()
        size = 0
        counter_items: set[tuple[str, str | None]] = set()
        for unit in units:
            unit_size = len(self._unit_items(unit))
            unit_counters = {(region, sphere) for region, sphere, _ in counter_delta(unit)}
            new_counters = counter_items | unit_counters
            total = size + unit_size + len(new_counters) + 1
            if group and (total > MAX_TRANSACTION_ITEMS or unit.institution_after["id"] in institutions):
                yield group
                group, institutions, size = [], set(), 0
                new_counters = unit_counters
            group.append(unit)
            institutions.add(unit.institution_after["id"])
            size += unit_size
            counter_items = new_counters
        if group:
            yield group

    def _unit_items(self, unit: Unit) -> list[Item]:
        """The transaction items of a unit's records and guards (counters and outbox excluded)."""
        before, after = unit.institution_before, unit.institution_after
        result = []
        if before != after:
            result.append(self._put(_institution_item(after), before["revision"] if before else None))
            result.extend(self._guard_swap("OGRN", before["ogrn"] if before else None, after["ogrn"], after["id"]))
        for page_before, page_after in unit.pages:
            if page_before == page_after:
                continue
            old_url = page_before["url_key"] if page_before else None
            old_group = page_before.get("group_id") if page_before else None
            result.append(self._put(_page_item(page_after), page_before["revision"] if page_before else None))
            result.extend(self._guard_swap("PAGEURL", old_url, page_after["url_key"], page_after["id"]))
            result.extend(self._guard_swap("VKGROUP", old_group, page_after.get("group_id"), page_after["id"]))
        return result

    def _put(self, item: Item, expected_revision: int | None) -> Item:
        put: Item = {"TableName": self._table.name, "Item": serialize(item)}
        if expected_revision is None:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            put["ConditionExpression"] = "revision = :revision"
            put["ExpressionAttributeValues"] = serialize({":revision": expected_revision})
        return {"Put": put}

    def _guard_swap(self, kind: str, old: str | int | None, new: str | int | None, owner_id: str) -> list[Item]:
        if old == new:
            return []
        items: list[Item] = []
        if old is not None:
            delete = {
                "TableName": self._table.name,
                "Key": serialize(_guard_key(kind, old)),
                "ConditionExpression": "owner_id = :owner",
                "ExpressionAttributeValues": serialize({":owner": owner_id}),
            }
            items.append({"Delete": delete})
        if new is not None:
            put = {
                "TableName": self._table.name,
                "Item": serialize({**_guard_key(kind, new), "owner_id": owner_id, "entity": "guard"}),
                "ConditionExpression": "attribute_not_exists(PK)",
            }
            items.append({"Put": put})
        return items


def _counters_of(item: Mapping[str, Any]) -> CoverageCounters:
    return cast(CoverageCounters, {key: int(value) for key, value in item.items() if key in COUNTER_ATTRIBUTES})


def _counter_changes(delta: Counter[CounterKey]) -> list[tuple[dict[str, str], dict[str, int]]]:
    """Counter items to change and what to add to their attributes, in key order."""
    by_item: dict[tuple[str, str], dict[str, int]] = {}
    for (region_code, sphere, attribute), value in delta.items():
        if value:
            by_item.setdefault(_pair(_counter_key(region_code, sphere)), {})[attribute] = value
    return [({"PK": pk, "SK": sk}, amounts) for (pk, sk), amounts in sorted(by_item.items())]


def _new_outbox(events: Iterable[Event]) -> OutboxRecord:
    return OutboxRecord(id=f"{now_iso()}#{new_id()}", events=list(events))


def _outbox_item(record: OutboxRecord) -> Item:
    events = [event.model_dump_json() for event in record["events"]]
    return {**_outbox_key(record["id"]), "entity": "outbox", "events": events}
