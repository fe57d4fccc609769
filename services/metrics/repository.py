"""DynamoDB layout of the metrics service (one table) and the only module that knows its keys.

Items (``PK`` / ``SK``):

- ``PAGE#{id}`` / ``META``, ``INSTITUTION#{id}`` / ``META`` - projections of registry pages and institutions (scope,
  category, compliance, kind, spheres, ОКТМО, the page's last synced subscribers, an institution's active pages).
- ``REGION#{code}`` / ``META`` - the region's active pages, institutions, covered institutions, subscribers.
- ``PAGE#{id}`` / ``DAY#{date}`` - the page's counters on a local day (``services.metrics.counters``), the set of
  event digests already counted (``seen``: the redelivery guard), a ``version`` bumped by every write, ``rolled``
  (the counters the last rollup saw) and, while the rollup has not seen the latest change, ``GSI1PK``/``GSI1SK``
  (``CHANGED#{shard}`` / ``{date}#{page}``): the changed-pages set is the sparse index GSI1, read by day range.
- ``PAGE#{id}`` and ``REGION#{code}`` / ``DAY#``, ``WEEK#``, ``MONTH#``, ``QUARTER#``, ``YEAR#{label}`` - rollups;
  page and region period items carry their score, and ``GSI2PK``/``GSI2SK`` (``RATING#PAGE#{region}#{period}`` or
  ``RATING#REGION#{period}`` / the zero-padded score) rank them.
- ``REGION#{code}#INST``, ``#KIND``, ``#SPHERE`` / ``{PERIOD}#{label}#{member}`` - rollups per institution, institution
  kind and primary sphere, one query per region and period (institutions also per day). An institution's items
  carry its ``municipality`` (first-level ОКТМО), so the per-municipality rollup is the sum of those items by it.
- ``REGION#{code}#OVERDUE`` / ``{appeal_id}`` - appeals overdue and not yet answered or closed.
- ``REGION#{code}#MARK`` / ``{year}#{page_id}`` - quality marks awarded.
- ``RUN#{execution_id}`` / ``ROLLUP`` - a finished rollup run (its summary; TTL 14 days).

Reads are Get/BatchGet/Query by key or index; no Scan.
"""

from __future__ import annotations

import base64
import hashlib
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from shared.dynamo import chunked, deserialize, is_conditional_failure, serialize, serialize_value
from shared.transactions import ConditionFailed, transact_write

from .periods import Period

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

RUN_TTL_SECONDS = 14 * 86400
CHANGED_SHARDS = 8
DAY_ATTRIBUTES = frozenset(
    {
        "PK",
        "SK",
        "GSI1PK",
        "GSI1SK",
        "GSI2PK",
        "GSI2SK",
        "day",
        "version",
        "seen",
        "rolled",
        "subscribers",
        "region_code",
    }
)
PERIOD_ATTRIBUTES = frozenset(
    {
        "PK",
        "SK",
        "GSI2PK",
        "GSI2SK",
        "score",
        "breakdown",
        "name",
        "kind",
        "page_id",
        "region_code",
        "member",
        "period",
        "municipality",
    }
)
Item = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ProjectedPage:
    """What the metrics service knows about a registry page: where it belongs, at which revision."""

    page_id: str
    institution_id: str
    region_code: str
    group_id: int | None
    status: str
    revision: int
    category: str = "active"
    compliance_pct: int | None = None
    subscribers: int | None = None


@dataclass(frozen=True, slots=True)
class ProjectedInstitution:
    """What the metrics service knows about a registry institution."""

    institution_id: str
    region_code: str
    name: str
    kind: str
    spheres: tuple[str, ...]
    status: str
    revision: int
    oktmo: str | None = None


@dataclass(frozen=True, slots=True)
class RegionTotals:
    """A region's projection counters."""

    pages: int = 0
    institutions: int = 0
    covered: int = 0
    subscribers: int = 0


@dataclass(frozen=True, slots=True)
class DayCounters:
    """Counters of one page or region on one local day."""

    day: date
    counts: dict[str, int]
    subscribers: int | None = None


@dataclass(frozen=True, slots=True)
class ChangedDay:
    """A page-day the rollup has not seen in its latest state."""

    page_id: str
    day: date
    version: int
    counts: dict[str, int]
    rolled: dict[str, int]
    subscribers: int | None
    region_code: str | None = None


@dataclass(frozen=True, slots=True)
class Rollup:
    """Summed counters of one scope over one period, with its score if it has one."""

    member: str
    period: str
    counts: dict[str, int]
    score: float | None = None
    breakdown: dict[str, Any] | None = None
    name: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RollupWrite:
    """Everything one changed page-day adds to the rollups, written atomically with marking the day rolled."""

    changed: ChangedDay
    region_code: str
    institution_id: str
    kind: str
    sphere: str | None
    deltas: dict[str, int]
    periods: Mapping[Period, str]
    page_scores: Mapping[Period, tuple[float, dict[str, Any], float | None]] = field(default_factory=dict)
    subscribers: int | None = None
    subscribers_delta: int = 0
    institution_name: str | None = None
    municipality: str | None = None


def _page(page_id: str) -> str:
    return f"PAGE#{page_id}"


def _institution(institution_id: str) -> str:
    return f"INSTITUTION#{institution_id}"


def _region(region_code: str) -> str:
    return f"REGION#{region_code}"


def _period_key(period: Period, period_label: str) -> str:
    return f"{period.upper()}#{period_label}"


def _day_key(day: date) -> str:
    return _period_key("day", day.isoformat())


def _key(pk: str, sk: str) -> dict[str, Any]:
    return serialize({"PK": pk, "SK": sk})


def _shard(page_id: str) -> int:
    return zlib.crc32(page_id.encode()) % CHANGED_SHARDS


def _changed(page_id: str, day: date) -> str:
    return f"{day.isoformat()}#{page_id}"


def _vk_pages(page_id: str) -> str:
    return f"VKPAGES#{_shard(page_id)}"


def _page_rating(region_code: str, period: Period, period_label: str) -> str:
    return f"RATING#PAGE#{region_code}#{_period_key(period, period_label)}"


def _region_rating(period: Period, period_label: str) -> str:
    return f"RATING#REGION#{_period_key(period, period_label)}"


def _rank(score: float, member: str) -> str:
    return f"{round(score * 10):04d}#{member}"


def digest(event_id: str) -> str:
    """The short, fixed-size form of an event id kept in a counter item's ``seen`` set."""
    return base64.b64encode(hashlib.blake2b(event_id.encode(), digest_size=9).digest()).decode()


def _counts(item: Mapping[str, Any], reserved: frozenset[str]) -> dict[str, int]:
    return {name: int(value) for name, value in item.items() if name not in reserved and isinstance(value, int)}


def _add(updates: Mapping[str, int], names: dict[str, str], values: dict[str, Any], prefix: str = "c") -> list[str]:
    """``ADD`` clauses for numeric deltas, with their placeholder names and values filled in."""
    clauses = []
    for index, (name, delta) in enumerate(sorted(updates.items())):
        names[f"#{prefix}{index}"] = name
        values[f":{prefix}{index}"] = {"N": str(delta)}
        clauses.append(f"#{prefix}{index} :{prefix}{index}")
    return clauses


class MetricsRepository:
    """Counters, rollups, ratings, quality marks and the registry projection in one DynamoDB table."""

    def __init__(self, *, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table

    # ------------------------------------------------------------ counting
    def add_counters(
        self, *, page_id: str, region_code: str, day: date, deltas: Mapping[str, int], seen: Sequence[str]
    ) -> bool:
        """Add ``deltas`` to the page-day unless any of the ``seen`` digests was counted there; True if added.

        One conditional UpdateItem: the counters, the digests and the changed-set marker move together.
        """
        names = {"#seen": "seen", "#version": "version", "#day": "day", "#region": "region_code"}
        names |= {"#g1pk": "GSI1PK", "#g1sk": "GSI1SK"}
        values: dict[str, Any] = {
            ":seen": {"SS": list(seen)},
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
            ":day": {"S": day.isoformat()},
            ":region": {"S": region_code},
            ":shard": {"S": f"CHANGED#{_shard(page_id)}"},
            ":changed": {"S": _changed(page_id, day)},
        }
        clauses = _add(deltas, names, values)
        guard = []
        for index, value in enumerate(seen):
            values[f":d{index}"] = {"S": value}
            guard.append(f"NOT contains(#seen, :d{index})")
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(_page(page_id), _day_key(day)),
                UpdateExpression=f"ADD {', '.join([*clauses, '#seen :seen'])} "
                "SET #version = if_not_exists(#version, :zero) + :one, #day = :day, #region = :region, "
                "#g1pk = :shard, #g1sk = :changed",
                ConditionExpression=" AND ".join(guard),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except Exception as error:  # botocore's ClientError
            if is_conditional_failure(error):
                return False
            raise
        return True

    def seen_digests(self, *, page_id: str, day: date) -> set[str]:
        """The digests of events already counted on the page-day (consistent read)."""
        item = self.client.get_item(
            TableName=self.table,
            Key=_key(_page(page_id), _day_key(day)),
            ConsistentRead=True,
            ProjectionExpression="seen",
        ).get("Item")
        return set(deserialize(item).get("seen", [])) if item else set()

    def set_subscribers(self, *, page_id: str, region_code: str, day: date, subscribers: int) -> None:
        """Store the page's synced subscriber count on the day and put the day in the changed set."""
        self.client.update_item(
            TableName=self.table,
            Key=_key(_page(page_id), _day_key(day)),
            UpdateExpression="SET subscribers = :n, #version = if_not_exists(#version, :zero) + :one, #day = :day, "
            "region_code = :region, GSI1PK = :shard, GSI1SK = :changed",
            ExpressionAttributeNames={"#version": "version", "#day": "day"},
            ExpressionAttributeValues={
                ":n": {"N": str(subscribers)},
                ":one": {"N": "1"},
                ":zero": {"N": "0"},
                ":day": {"S": day.isoformat()},
                ":region": {"S": region_code},
                ":shard": {"S": f"CHANGED#{_shard(page_id)}"},
                ":changed": {"S": _changed(page_id, day)},
            },
        )

    def mark_overdue(self, *, region_code: str, appeal_id: str, fields: Mapping[str, Any]) -> None:
        """Keep an overdue appeal in the region's overdue list."""
        item = {"PK": f"{_region(region_code)}#OVERDUE", "SK": appeal_id, **fields}
        self.client.put_item(TableName=self.table, Item=serialize(item))

    def clear_overdue(self, *, region_code: str, appeal_id: str) -> None:
        """Drop an appeal from the region's overdue list (answered or closed)."""
        self.client.delete_item(TableName=self.table, Key=_key(f"{_region(region_code)}#OVERDUE", appeal_id))

    def overdue(self, region_code: str) -> list[dict[str, Any]]:
        """The region's overdue appeals, by appeal id."""
        return self._query(f"{_region(region_code)}#OVERDUE")

    # ------------------------------------------------------------ projection
    def get_page(self, page_id: str) -> ProjectedPage | None:
        """The projected page (``None`` if the registry never announced it)."""
        item = self._get(_page(page_id), "META")
        return _projected_page(item) if item and "revision" in item else None

    def get_pages(self, page_ids: Iterable[str]) -> dict[str, ProjectedPage]:
        """Projected pages by id (unknown ids left out)."""
        items = self._batch_get([(_page(page_id), "META") for page_id in set(page_ids)])
        return {item["page_id"]: _projected_page(item) for item in items if "revision" in item}

    def get_institution(self, institution_id: str) -> ProjectedInstitution | None:
        """The projected institution (``None`` if unknown)."""
        item = self._get(_institution(institution_id), "META")
        return _projected_institution(item) if item and "revision" in item else None

    def region_totals(self, region_code: str) -> RegionTotals:
        """The region's projection counters."""
        item = self._get(_region(region_code), "META") or {}
        return RegionTotals(
            **{name: int(item.get(name, 0)) for name in ("pages", "institutions", "covered", "subscribers")}
        )

    def project_page(self, page: ProjectedPage) -> bool:
        """Store the page unless this or a newer revision is stored, moving the region's and institution's counts of
        active pages in the same transaction; True if applied."""
        stored = self._get(_page(page.page_id), "META") or {}
        if int(stored.get("revision", 0)) >= page.revision:
            return False
        was_active = stored.get("status") == "active"
        active = page.status == "active"
        institution = self._get(_institution(page.institution_id), "META") or {}
        old_pages = int(institution.get("active_pages", 0))
        pages_delta = (
            int(active) - int(was_active)
            if stored.get("institution_id", page.institution_id) == page.institution_id
            else int(active)
        )
        new_pages = old_pages + pages_delta
        item = {
            "PK": _page(page.page_id),
            "SK": "META",
            "page_id": page.page_id,
            "institution_id": page.institution_id,
            "region_code": page.region_code,
            "group_id": page.group_id,
            "status": page.status,
            "revision": page.revision,
            "category": page.category,
            "compliance_pct": page.compliance_pct,
            "subscribers": stored.get("subscribers", page.subscribers),
        }
        if active and page.group_id is not None:
            item |= {"GSI2PK": _vk_pages(page.page_id), "GSI2SK": page.page_id}
        condition = "attribute_not_exists(revision)" if "revision" not in stored else "revision = :old"
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": serialize(item),
                    "ConditionExpression": condition,
                    **(
                        {"ExpressionAttributeValues": {":old": serialize_value(stored["revision"])}}
                        if "revision" in stored
                        else {}
                    ),
                }
            }
        ]
        if pages_delta:
            items.append(self._counted(_institution(page.institution_id), "active_pages", old_pages, pages_delta))
            covered = int(new_pages > 0) - int(old_pages > 0)
            items.append(self._region_add(page.region_code, {"pages": pages_delta, "covered": covered}))
        try:
            transact_write(self.client, items)
        except ConditionFailed:
            return False
        return True

    def project_institution(self, institution: ProjectedInstitution) -> bool:
        """Store the institution unless this or a newer revision is stored, moving the region's institution count."""
        stored = self._get(_institution(institution.institution_id), "META") or {}
        if int(stored.get("revision", 0)) >= institution.revision:
            return False
        active_delta = int(institution.status == "active") - int(stored.get("status") == "active")
        values = {
            ":name": {"S": institution.name},
            ":kind": {"S": institution.kind},
            ":spheres": serialize_value(list(institution.spheres)),
            ":region": {"S": institution.region_code},
            ":status": {"S": institution.status},
            ":revision": serialize_value(institution.revision),
            ":id": {"S": institution.institution_id},
        }
        oktmo = " REMOVE oktmo"
        if institution.oktmo is not None:
            values[":oktmo"] = {"S": institution.oktmo}
            oktmo = ", oktmo = :oktmo"
        condition = "attribute_not_exists(revision)"
        if "revision" in stored:
            condition = "revision = :old"
            values[":old"] = serialize_value(stored["revision"])
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(_institution(institution.institution_id), "META"),
                    "UpdateExpression": "SET #name = :name, kind = :kind, spheres = :spheres, region_code = :region, "
                    f"#status = :status, revision = :revision, institution_id = :id{oktmo}",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#name": "name", "#status": "status"},
                    "ExpressionAttributeValues": values,
                }
            }
        ]
        if active_delta:
            items.append(self._region_add(institution.region_code, {"institutions": active_delta}))
        try:
            transact_write(self.client, items)
        except ConditionFailed:
            return False
        return True

    def _counted(self, partition: str, name: str, old: int, delta: int) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(partition, "META"),
                "UpdateExpression": "SET #n = :new",
                "ConditionExpression": "attribute_not_exists(#n) OR #n = :old",
                "ExpressionAttributeNames": {"#n": name},
                "ExpressionAttributeValues": {":new": {"N": str(old + delta)}, ":old": {"N": str(old)}},
            }
        }

    def _region_add(self, region_code: str, deltas: Mapping[str, int]) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        clauses = _add({k: v for k, v in deltas.items() if v}, names, values)
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(_region(region_code), "META"),
                "UpdateExpression": f"ADD {', '.join(clauses)}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    # ------------------------------------------------------------ rollups
    def changed_days(
        self, limit: int, *, from_day: date | None = None, before_day: date | None = None
    ) -> Iterator[ChangedDay]:
        """Page-days changed since the rollup last saw them, at most ``limit``, shard by shard; only days on or after
        ``from_day`` and before ``before_day`` when given (a key range of the index, not a filter)."""
        returned = 0
        low = from_day.isoformat() if from_day else "0"
        high = before_day.isoformat() if before_day else "9"  # "{day}#..." sorts after "{day}": that day is left out
        for shard in range(CHANGED_SHARDS):
            ranged = (low, high) if from_day or before_day else None
            for item in self._query(f"CHANGED#{shard}", index="GSI1", between=ranged):
                if returned == limit:
                    return
                returned += 1
                page_id = item["PK"].removeprefix("PAGE#")
                yield ChangedDay(
                    page_id=page_id,
                    day=date.fromisoformat(item["day"]),
                    version=int(item.get("version", 0)),
                    counts=_counts(item, DAY_ATTRIBUTES),
                    rolled={k: int(v) for k, v in (item.get("rolled") or {}).items()},
                    subscribers=item.get("subscribers"),
                    region_code=item.get("region_code"),
                )

    def vk_pages(self) -> Iterator[ProjectedPage]:
        """Every active VK page with a community id, shard by shard (for the subscriber sync)."""
        for shard in range(CHANGED_SHARDS):
            for item in self._query(f"VKPAGES#{shard}", index="GSI2"):
                yield _projected_page(item)

    def page_periods(self, page_id: str, periods: Mapping[Period, str]) -> dict[Period, Rollup]:
        """The page's rollups of the given periods (absent ones left out)."""
        keys = {_period_key(period, period_label): period for period, period_label in periods.items()}
        items = self._batch_get([(_page(page_id), sk) for sk in keys])
        return {keys[item["SK"]]: _rollup(item, page_id) for item in items}

    def apply_rollup(self, write: RollupWrite) -> bool:
        """Add one page-day's change to every rollup containing it and mark the day rolled, atomically; False if the
        day changed again meanwhile (the next run takes it).

        One transaction of at most 25 items: the day, the page's and region's subscriber counts (on a synced change),
        the region's and institution's day, and per week / month / quarter / year the page, region, institution,
        kind and sphere.
        """
        changed = write.changed
        day_names = {"#v": "version", "#rolled": "rolled", "#g1pk": "GSI1PK", "#g1sk": "GSI1SK"}
        rolled = {**changed.counts, **({"subscribers": changed.subscribers} if changed.subscribers is not None else {})}
        items: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(_page(changed.page_id), _day_key(changed.day)),
                    "UpdateExpression": "SET #rolled = :rolled REMOVE #g1pk, #g1sk",
                    "ConditionExpression": "#v = :v",
                    "ExpressionAttributeNames": day_names,
                    "ExpressionAttributeValues": {
                        ":rolled": serialize_value(rolled),
                        ":v": {"N": str(changed.version)},
                    },
                }
            }
        ]
        if write.subscribers is not None:
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _key(_page(changed.page_id), "META"),
                        "UpdateExpression": "SET subscribers = :n, subscribers_day = :day",
                        "ExpressionAttributeValues": {
                            ":n": {"N": str(write.subscribers)},
                            ":day": {"S": changed.day.isoformat()},
                        },
                    }
                }
            )
            if write.subscribers_delta:
                items.append(self._region_add(write.region_code, {"subscribers": write.subscribers_delta}))
        deltas = write.deltas
        region = _region(write.region_code)
        for period, period_label in write.periods.items():
            sk = _period_key(period, period_label)
            score = write.page_scores.get(period)
            if period != "day":
                items.append(
                    self._rollup_update(
                        _page(changed.page_id), sk, deltas, page_score=score, write=write, period=period
                    )
                )
            region_deltas = dict(deltas)
            if score is not None:
                new, _, old = score
                region_deltas["score_sum_x10"] = round(new * 10) - round((old or 0) * 10)
                region_deltas["scored_pages"] = int(old is None)
            items.append(self._rollup_update(region, sk, region_deltas, period=period, write=write))
            members = [("INST", write.institution_id)]
            if period != "day":
                members.append(("KIND", write.kind))
                if write.sphere:
                    members.append(("SPHERE", write.sphere))
            for facet, member in members:
                institution = facet == "INST"
                items.append(
                    self._rollup_update(
                        f"{region}#{facet}",
                        f"{sk}#{member}",
                        deltas,
                        period=period,
                        write=write,
                        member=member,
                        name=write.institution_name if institution else None,
                        municipality=write.municipality if institution else None,
                    )
                )
        try:
            transact_write(self.client, items)
        except ConditionFailed:
            return False
        return True

    def _rollup_update(
        self,
        pk: str,
        sk: str,
        deltas: Mapping[str, int],
        *,
        period: Period,
        write: RollupWrite,
        page_score: tuple[float, dict[str, Any], float | None] | None = None,
        member: str | None = None,
        name: str | None = None,
        municipality: str | None = None,
    ) -> dict[str, Any]:
        names: dict[str, str] = {"#period": "period", "#region": "region_code"}
        values: dict[str, Any] = {":period": {"S": write.periods[period]}, ":region": {"S": write.region_code}}
        sets = ["#period = :period", "#region = :region"]
        if member is not None:
            names["#member"], values[":member"] = "member", {"S": member}
            sets.append("#member = :member")
        if name is not None:
            names["#name"], values[":name"] = "name", {"S": name}
            sets.append("#name = :name")
        if municipality is not None:
            names["#municipality"], values[":municipality"] = "municipality", {"S": municipality}
            sets.append("#municipality = :municipality")
        if page_score is not None:
            score, breakdown, _ = page_score
            names |= {
                "#score": "score",
                "#breakdown": "breakdown",
                "#g2pk": "GSI2PK",
                "#g2sk": "GSI2SK",
                "#page": "page_id",
            }
            values |= {
                ":score": serialize_value(score),
                ":breakdown": serialize_value(breakdown),
                ":g2pk": {"S": _page_rating(write.region_code, period, write.periods[period])},
                ":g2sk": {"S": _rank(score, write.changed.page_id)},
                ":page": {"S": write.changed.page_id},
            }
            sets += ["#score = :score", "#breakdown = :breakdown", "#g2pk = :g2pk", "#g2sk = :g2sk", "#page = :page"]
        clauses = _add({k: v for k, v in deltas.items() if v}, names, values)
        expression = f"SET {', '.join(sets)}" + (f" ADD {', '.join(clauses)}" if clauses else "")
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(pk, sk),
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def set_region_score(
        self,
        *,
        region_code: str,
        period: Period,
        period_label: str,
        score: float,
        breakdown: dict[str, Any],
        totals: RegionTotals,
    ) -> None:
        """Store a region's rating score of a period (with its page and subscriber totals) and rank it."""
        self.client.update_item(
            TableName=self.table,
            Key=_key(_region(region_code), _period_key(period, period_label)),
            UpdateExpression="SET #score = :score, #breakdown = :breakdown, GSI2PK = :pk, GSI2SK = :sk, "
            "#member = :member, #pages = :pages, #subscribers = :subscribers",
            ExpressionAttributeNames={
                name: name[1:] for name in ("#score", "#breakdown", "#member", "#pages", "#subscribers")
            },
            ExpressionAttributeValues={
                ":pages": {"N": str(totals.pages)},
                ":subscribers": {"N": str(totals.subscribers)},
                ":score": serialize_value(score),
                ":breakdown": serialize_value(breakdown),
                ":pk": {"S": _region_rating(period, period_label)},
                ":sk": {"S": _rank(score, region_code)},
                ":member": {"S": region_code},
            },
        )

    def run_summary(self, execution_id: str) -> dict[str, Any] | None:
        """What a finished rollup run of this execution id did (``None`` if it did not finish)."""
        item = self._get(f"RUN#{execution_id}", "ROLLUP")
        return item.get("summary") if item else None

    def finish_run(self, execution_id: str, summary: Mapping[str, Any]) -> None:
        """Record a finished rollup run."""
        item = {
            "PK": f"RUN#{execution_id}",
            "SK": "ROLLUP",
            "summary": dict(summary),
            "expires_at": int(time.time()) + RUN_TTL_SECONDS,
        }
        self.client.put_item(TableName=self.table, Item=serialize(item))

    # ------------------------------------------------------------ reads
    def page_days(self, *, page_id: str, first_day: date, last_day: date) -> list[DayCounters]:
        """The page's daily counters between two local days, inclusive, oldest first (days without data absent)."""
        return self._days(_page(page_id), first_day=first_day, last_day=last_day)

    def region_days(self, *, region_code: str, first_day: date, last_day: date) -> list[DayCounters]:
        """The region's daily rollups between two local days, inclusive, oldest first."""
        return self._days(_region(region_code), first_day=first_day, last_day=last_day)

    def _days(self, partition: str, *, first_day: date, last_day: date) -> list[DayCounters]:
        items = self._query(partition, between=(_day_key(first_day), _day_key(last_day)))
        return [
            DayCounters(
                day=date.fromisoformat(item["SK"].removeprefix("DAY#")),
                counts=_counts(item, DAY_ATTRIBUTES | PERIOD_ATTRIBUTES),
                subscribers=item.get("subscribers"),
            )
            for item in items
        ]

    def page_rollup(self, page_id: str, period: Period, period_label: str) -> Rollup | None:
        """One page's rollup of a period."""
        item = self._get(_page(page_id), _period_key(period, period_label))
        return _rollup(item, page_id) if item else None

    def region_rollup(self, region_code: str, period: Period, period_label: str) -> Rollup | None:
        """One region's rollup of a period."""
        item = self._get(_region(region_code), _period_key(period, period_label))
        return _rollup(item, region_code) if item else None

    def member_rollups(self, region_code: str, facet: str, period: Period, period_label: str) -> list[Rollup]:
        """The region's rollups per institution (``INST``), kind (``KIND``) or sphere (``SPHERE``) of a period."""
        prefix = f"{_period_key(period, period_label)}#"
        items = self._query(f"{_region(region_code)}#{facet}", prefix=prefix)
        return [_rollup(item, item["SK"].removeprefix(prefix)) for item in items]

    def page_rating(self, region_code: str, period: Period, period_label: str, *, limit: int | None) -> list[Rollup]:
        """The region's pages by score of a period, best first."""
        items = self._query(_page_rating(region_code, period, period_label), index="GSI2", descending=True, limit=limit)
        return [_rollup(item, item["page_id"]) for item in items]

    def region_rating(self, period: Period, period_label: str) -> list[Rollup]:
        """Every region by rating score of a period, best first."""
        items = self._query(_region_rating(period, period_label), index="GSI2", descending=True)
        return [_rollup(item, item["member"]) for item in items]

    def put_marks(self, *, region_code: str, year: int, winners: Sequence[tuple[str, float]]) -> None:
        """Record the quality marks of a region's year (page id, score)."""
        requests = [
            {
                "PutRequest": {
                    "Item": serialize(
                        {
                            "PK": f"{_region(region_code)}#MARK",
                            "SK": f"{year}#{page_id}",
                            "page_id": page_id,
                            "score": score,
                            "year": year,
                        }
                    )
                }
            }
            for page_id, score in winners
        ]
        for chunk in chunked(requests, 25):
            pending: Any = {self.table: chunk}
            while pending:
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or None

    def marks(self, *, region_code: str, year: int) -> list[tuple[str, float]]:
        """A region's quality marks of a year (page id, score), best first."""
        items = self._query(f"{_region(region_code)}#MARK", prefix=f"{year}#")
        return sorted(((item["page_id"], float(item["score"])) for item in items), key=lambda pair: -pair[1])

    # ------------------------------------------------------------ primitives
    def _get(self, pk: str, sk: str) -> Item | None:
        item = self.client.get_item(TableName=self.table, Key=_key(pk, sk)).get("Item")
        return deserialize(item) if item else None

    def _batch_get(self, keys: Sequence[tuple[str, str]]) -> list[Item]:
        found: list[Item] = []
        for chunk in chunked(keys, 100):
            pending: Any = {self.table: {"Keys": [_key(pk, sk) for pk, sk in chunk]}}
            while pending:
                response = self.client.batch_get_item(RequestItems=pending)
                found += [deserialize(item) for item in response.get("Responses", {}).get(self.table, [])]
                pending = response.get("UnprocessedKeys") or None
        return found

    def _query(
        self,
        partition: str,
        *,
        index: str | None = None,
        prefix: str | None = None,
        between: tuple[str, str] | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Item]:
        pk, sk = ("GSI1PK", "GSI1SK") if index == "GSI1" else ("GSI2PK", "GSI2SK") if index == "GSI2" else ("PK", "SK")
        condition, values = f"{pk} = :pk", {":pk": {"S": partition}}
        if prefix is not None:
            condition += f" AND begins_with({sk}, :prefix)"
            values[":prefix"] = {"S": prefix}
        if between is not None:
            condition += f" AND {sk} BETWEEN :first AND :last"
            values |= {":first": {"S": between[0]}, ":last": {"S": between[1]}}
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not descending,
        }
        if index is not None:
            request["IndexName"] = index
        items: list[Item] = []
        while True:
            if limit is not None:
                request["Limit"] = limit - len(items)
            response = self.client.query(**request)
            items += [deserialize(item) for item in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start or (limit is not None and len(items) >= limit):
                return items
            request["ExclusiveStartKey"] = start


def _projected_page(item: Mapping[str, Any]) -> ProjectedPage:
    return ProjectedPage(
        page_id=item["page_id"],
        institution_id=item["institution_id"],
        region_code=item["region_code"],
        group_id=item.get("group_id"),
        status=item["status"],
        revision=int(item["revision"]),
        category=item.get("category", "active"),
        compliance_pct=item.get("compliance_pct"),
        subscribers=item.get("subscribers"),
    )


def _projected_institution(item: Mapping[str, Any]) -> ProjectedInstitution:
    return ProjectedInstitution(
        institution_id=item["institution_id"],
        region_code=item["region_code"],
        name=item["name"],
        kind=item["kind"],
        spheres=tuple(item.get("spheres") or ()),
        status=item["status"],
        revision=int(item["revision"]),
        oktmo=item.get("oktmo"),
    )


def _rollup(item: Mapping[str, Any], member: str) -> Rollup:
    return Rollup(
        member=member,
        period=str(item.get("period", "")),
        counts=_counts(item, PERIOD_ATTRIBUTES | DAY_ATTRIBUTES),
        score=float(item["score"]) if "score" in item else None,
        breakdown=item.get("breakdown"),
        name=item.get("name"),
        extra={"kind": item.get("kind"), "municipality": item.get("municipality")},
    )
