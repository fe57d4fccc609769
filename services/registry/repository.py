"""The registry's DynamoDB layout (one table) and the only module that knows it.

Items (``PK`` / ``SK``):

- ``INST#{id}`` / ``A`` - institution; ``page_stats`` holds its active pages' aggregates (feeds the coverage counters).
- ``PAGE#{id}`` / ``A`` - page.
- Uniqueness guards, written in the same transaction as their owner: ``OGRN#{ogrn}``, ``VKGROUP#{group_id}``,
  ``PAGEURL#{url_key}`` (``SK`` ``A``, attribute ``owner_id``).
- ``COVERAGE#{region}`` / ``ALL`` | ``SPHERE#{sphere}`` - coverage counters, changed with ``ADD`` in the transaction
  that changes an institution (the delta of its contribution before and after).
- ``OUTBOX#{0..15}`` / ``{created_at}#{uuid}`` - events of a committed change not yet known to be published
  (``shared.outbox``'s layout).
- ``REGIONCFG#{region}`` / ``A`` - per-region settings.
- ``REGIONDATA#{region}`` / ``A`` - the region has institutions: a federal list reads the 89 markers with one
  BatchGetItem and queries only the regions that have any.
- Postings, items pointing at an institution (``institution_id``, ``revision``): ``TERM#{region}#{term[:2]}`` /
  ``{term}#{name_key}#{id}`` for each search term of its name, ``SPHERE#{region}#{sphere}`` / ``{name_key}#{id}``
  for each of its spheres.

Lists. Every filter people use is the partition of an index, so a filtered page reads matching items in order
instead of filtering a whole region. A single-valued facet is an overloaded GSI key of the record itself: DynamoDB
keeps it with every write of the record, so it costs no transaction item and no extra request. Status leads every
institution sort key and the page sort keys of GSI1-4 and GSI6, so it narrows any of them as a key prefix:

=====  ================================================  =======================================================
index  institutions, sorted ``{status}#{name_key}#{id}``  pages
=====  ================================================  =======================================================
GSI1   ``REGION#{r}#INST``                               ``REGION#{r}#PAGE`` / ``{status}#{platform}#{category}#{id}``
GSI2   ``REGION#{r}#KIND#{kind}``                        ``PAGES#{institution_id}`` / ``{status}#{platform}#{id}``
GSI3   ``REGION#{r}#LEVEL#{level}``                      ``REGION#{r}#CATEGORY#{category}`` / ``{status}#{id}``
GSI4   ``REGION#{r}#MUNICIPALITY#{name_key}``            ``REGION#{r}#GOV_MARK#{0|1}`` / ``{status}#{id}``
GSI5   ``REGION#{r}#HAS_PAGES#{0|1}``                    ``REGION#{r}#COMPLIANCE`` / ``{compliance:03}#{id}``
GSI6   ``REGION#{r}#PARENT_ID#{parent_id}``              ``REGION#{r}#PLATFORM#{platform}`` / ``{status}#{id}``
=====  ================================================  =======================================================

A multi-valued facet (an institution's 1-3 spheres, the words of its name) cannot be a GSI key, so it is a posting.
Postings are written *before* the transaction that changes their institution (one BatchWriteItem) and deleted after
it once the institution no longer has them (a delete conditioned on the posting's ``revision``, so one written again
by a later change stays). They are thus a superset of the truth, and each one read is checked against the
institution it points at, which the list fetches anyway to return it: a stale or orphaned posting is skipped, never
listed. Keeping them out of the transaction leaves the 25 items to the record, its guards, counters and outbox.

Combinations: the most selective condition picks the partition, by how many values its facet has (institutions:
parent > municipality > name words > kind > level > has_pages; pages: compliance > category > platform > gov mark;
status as a key prefix), and the other conditions filter what it reads. Spheres come last although they have more
values than levels: a posting round yields 100 candidates for two requests, while a filtered Query of an index
evaluates twice as many items with every request (``storage.Table.query_page``), up to 1 MB (about a thousand
records). A page sends at most ``LIST_REQUESTS`` requests; when they are spent before ``limit`` items match, the
page is shorter and its cursor continues where reading stopped: a rare combination takes more pages, never an
unbounded one.

Name search: a term's posting lives in the partition of its first two letters with a sort key starting with the
term, so the postings of all terms beginning with a query word are one key range (a number: ``{number}#`` exactly).
The first page probes the ranges of up to three query words (numbers and longer words first) with one Query each and
continues the rarest: a probe that reached the end of its range (fewest postings first), else the one whose
postings most often matched every word. A posting's sort key carries the name, so every word is checked before a
record is read and only candidates are fetched. A name is found by its first ``MAX_NAME_TERMS`` terms, which bounds
its postings (one BatchWriteItem with its spheres).

Sizes (5,000 institutions and 10,000 pages a region; 175,000 pages nationally): every partition is region-scoped,
so a national total spreads over 89 regions. The largest are a region's pages in GSI1 and GSI5 and the commonest
platform or gov-mark value (about the region's page count, ~10^4 items of ~2 KB). A GSI partition has no size
limit and its sort keys are distinct, so DynamoDB (and YDB) split it by key range under load: no sharding. The
fastest writer into one partition is a region's bulk import (BatchWriteItem from ``BULK_WRITE_THREADS`` threads);
throttling there retries unprocessed items with backoff, slowing the import, never losing a write. Term partitions
split a region's names by their terms' first two letters (the widest, ``мб`` of МБОУ/МБДОУ, about half of them).

Writes. Every change is a ``Unit`` (one institution before/after plus some of its pages) and units are committed in
transactions of at most 25 items with their counters and one outbox item, so a change, its counters and its
events are atomic. Revisions guard against lost updates (``revision = :expected``). No Scan anywhere. Items stored
before the index attributes and postings existed get them from ``backfill_indexes``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from services.registry.counters import COUNTER_ATTRIBUTES, CounterKey, counter_delta
from services.registry.filters import InstitutionFilter, PageFilter, terms_match, word_matches
from services.registry.records import (
    CoverageCounters,
    InstitutionRecord,
    PageRecord,
    RegionSettingsRecord,
    Unit,
    name_key,
    name_terms,
)
from services.registry.storage import (
    REFERENCES_PER_QUERY,
    SOURCE_LABEL,
    Filter,
    IndexSource,
    Item,
    Partition,
    ReferenceSource,
    RequestBudget,
    Source,
    Table,
    add_request,
    cursor_contents,
    read_across,
)
from shared.dynamo import serialize
from shared.errors import BadRequestError
from shared.events import Event
from shared.outbox import (
    OutboxRecord,
    delete_records,
    new_record,
    new_records,
    records_before,
    stored_item,
    transaction_put,
)
from shared.transactions import MAX_TRANSACTION_ITEMS, ConditionFailed, transact_write

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BULK_WRITE_THREADS = 8  # parallel BatchWriteItem calls of a bulk import
LIST_REQUESTS = 9  # DynamoDB requests one list page may send (a use case may add one GetItem)
MAX_PROBED_WORDS = 3  # query words whose postings a name search probes on its first page
_INDEXES = ("GSI1", "GSI2", "GSI3", "GSI4", "GSI5", "GSI6")
_META = {
    "PK",
    "SK",
    "entity",
    "name_key",
    "page_count",
    *(f"{index}{part}" for index in _INDEXES for part in ("PK", "SK")),
}
_INSTITUTION_INDEXES = {
    "all": "GSI1",
    "kind": "GSI2",
    "level": "GSI3",
    "municipality": "GSI4",
    "has_pages": "GSI5",
    "parent_id": "GSI6",
}
_PAGE_INDEXES = {
    "all": "GSI1",
    "institution": "GSI2",
    "category": "GSI3",
    "gov_mark": "GSI4",
    "compliance": "GSI5",
    "platform": "GSI6",
}
_INSTITUTION_DRIVERS = ("parent_id", "municipality", "name", "kind", "level", "has_pages", "sphere")
_PAGE_DRIVERS = ("compliance_below", "category", "platform", "gov_mark")
_DRIVER = "t"  # cursor attribute of a name search: which probed word's postings it continues


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


def _region_marker_key(region_code: str) -> dict[str, str]:
    return {"PK": f"REGIONDATA#{region_code}", "SK": "A"}


def _pair(key: Mapping[str, Any]) -> tuple[str, str]:
    return key["PK"], key["SK"]


def _institution_partition(region_code: str, facet: str, value: str | bool | None = None) -> str:
    """The index partition of a region's institutions with one facet value (``all``: every institution)."""
    if facet == "all":
        return f"REGION#{region_code}#INST"
    if facet == "municipality":
        value = name_key(str(value))
    elif facet == "has_pages":
        value = str(int(bool(value)))
    return f"REGION#{region_code}#{facet.upper()}#{value}"


def _page_partition(region_code: str, facet: str, value: str | bool | None = None) -> str:
    """The index partition of a region's pages with one facet value (``all``, ``compliance``: every page)."""
    if facet == "all":
        return f"REGION#{region_code}#PAGE"
    if facet == "compliance":
        return f"REGION#{region_code}#COMPLIANCE"
    if facet == "gov_mark":
        value = str(int(bool(value)))
    return f"REGION#{region_code}#{facet.upper()}#{value}"


def _page_count(record: InstitutionRecord) -> int:
    return int((record.get("page_stats") or {}).get("pages", 0))


def _institution_facets(record: InstitutionRecord) -> dict[str, str | bool]:
    facets: dict[str, str | bool] = {
        "all": True,
        "kind": record["kind"],
        "level": record["level"],
        "has_pages": _page_count(record) > 0,
    }
    if record.get("municipality"):
        facets["municipality"] = record["municipality"]
    if record.get("parent_id"):
        facets["parent_id"] = record["parent_id"]
    return facets


def _institution_item(record: InstitutionRecord) -> Item:
    sort_key = f"{record['status']}#{name_key(record['name'])}#{record['id']}"
    item: Item = {
        **record,
        **_institution_key(record["id"]),
        "entity": "institution",
        "name_key": name_key(record["name"]),
        "page_count": _page_count(record),
    }
    for facet, value in _institution_facets(record).items():
        index = _INSTITUTION_INDEXES[facet]
        item[f"{index}PK"] = _institution_partition(record["region_code"], facet, value)
        item[f"{index}SK"] = sort_key
    return item


def _page_item(record: PageRecord) -> Item:
    region, status, page_id = record["region_code"], record["status"], record["id"]
    keys = {
        "all": (_page_partition(region, "all"), f"{status}#{record['platform']}#{record['category']}#{page_id}"),
        "institution": (f"PAGES#{record['institution_id']}", f"{status}#{record['platform']}#{page_id}"),
        "category": (_page_partition(region, "category", record["category"]), f"{status}#{page_id}"),
        "gov_mark": (_page_partition(region, "gov_mark", bool(record.get("gov_mark"))), f"{status}#{page_id}"),
        "compliance": (
            _page_partition(region, "compliance"),
            f"{int(record.get('compliance_pct') or 0):03d}#{page_id}",
        ),
        "platform": (_page_partition(region, "platform", record["platform"]), f"{status}#{page_id}"),
    }
    item: Item = {**record, **_page_key(page_id), "entity": "page"}
    for facet, (partition, sort_key) in keys.items():
        item[f"{_PAGE_INDEXES[facet]}PK"] = partition
        item[f"{_PAGE_INDEXES[facet]}SK"] = sort_key
    return item


def _institution_of(item: Item) -> InstitutionRecord:
    return cast(InstitutionRecord, {key: value for key, value in item.items() if key not in _META})


def _page_of(item: Item) -> PageRecord:
    return cast(PageRecord, {key: value for key, value in item.items() if key not in _META})


# ---------------------------------------------------------------- postings


def _term_partition(region_code: str, term: str) -> str:
    return f"TERM#{region_code}#{term[:2]}"


def _sphere_partition(region_code: str, sphere: str) -> str:
    return f"SPHERE#{region_code}#{sphere}"


def _posting_keys(record: InstitutionRecord) -> set[tuple[str, str]]:
    """The keys of the postings an institution has."""
    region, key, institution_id = record["region_code"], name_key(record["name"]), record["id"]
    keys = {(_term_partition(region, term), f"{term}#{key}#{institution_id}") for term in name_terms(record["name"])}
    keys |= {(_sphere_partition(region, sphere), f"{key}#{institution_id}") for sphere in record["spheres"]}
    return keys


def _new_postings(unit: Unit) -> list[Item]:
    """The postings a unit adds, stamped with the revision it writes."""
    after = unit.institution_after
    before = _posting_keys(unit.institution_before) if unit.institution_before else set()
    return [
        {"PK": pk, "SK": sk, "entity": "posting", "institution_id": after["id"], "revision": after["revision"]}
        for pk, sk in sorted(_posting_keys(after) - before)
    ]


def _stale_postings(unit: Unit) -> list[dict[str, str]]:
    """The keys of the postings a unit leaves without a reason to be."""
    before = _posting_keys(unit.institution_before) if unit.institution_before else set()
    return [{"PK": pk, "SK": sk} for pk, sk in sorted(before - _posting_keys(unit.institution_after))]


def _region_marker(region_code: str) -> Item:
    return {**_region_marker_key(region_code), "entity": "region_marker"}


def _index_items(units: Iterable[Unit]) -> dict[tuple[str, str], Item]:
    """The postings units add and the markers of the regions they create institutions in, by key."""
    items: dict[tuple[str, str], Item] = {}
    for unit in units:
        items |= {_pair(posting): posting for posting in _new_postings(unit)}
        if unit.institution_before is None:
            marker = _region_marker(unit.institution_after["region_code"])
            items[_pair(marker)] = marker
    return items


def _posting_target(posting: Item) -> dict[str, str]:
    return _institution_key(posting["institution_id"])


def _current_posting_of(where: InstitutionFilter) -> Callable[[Item, Item], bool]:
    """Accepts an institution a posting found if the posting is one it has now and it meets the filter."""

    def accept(posting: Item, item: Item) -> bool:
        record = _institution_of(item)
        return _pair(posting) in _posting_keys(record) and where.matches(record)

    return accept


class _NameSearch:
    """One region's institutions found by the words of their names (see the module docstring)."""

    def __init__(self, table: Table, region_code: str, where: InstitutionFilter) -> None:
        self.table = table
        self.region_code = region_code
        self.where = where
        self.words = where.words
        self.probed = sorted(self.words, key=lambda word: (not word.isdigit(), -len(word)))[:MAX_PROBED_WORDS]

    def position(self, cursor: str) -> Item:
        """Where a cursor of this search continues: the probed word it follows and the posting it reached."""
        contents = cursor_contents(cursor)
        if set(contents) <= {SOURCE_LABEL}:
            return {}
        driver = contents.get(_DRIVER)
        if not isinstance(driver, int) or not 0 <= driver < len(self.probed):
            raise BadRequestError("cursor does not belong to this query", field="cursor")
        return {**self._postings(driver).position(cursor, labels=(_DRIVER,)), _DRIVER: driver}

    def read(self, *, limit: int, position: Item, budget: RequestBudget) -> tuple[list[Item], Item | None]:
        """Up to ``limit`` institutions from ``position``; the first page probes the words and picks the rarest."""
        start = {name: value for name, value in position.items() if name != _DRIVER}
        if _DRIVER in position:
            driver = int(position[_DRIVER])
            source = self._postings(driver)
        else:
            if budget.left < len(self.probed) + 1:
                return [], {}
            probes = [
                self.table.query_page(self._range(word), limit=REFERENCES_PER_QUERY, budget=budget)
                for word in self.probed
            ]
            driver = self._rarest(probes)
            source = self._postings(driver, first=probes[driver])
        found, after = source.read(limit=limit, position=start, budget=budget)
        return found, None if after is None else {**after, _DRIVER: driver}

    def _range(self, word: str) -> Partition:
        prefix = f"{word}#" if word.isdigit() else word
        return Partition(key=("PK", _term_partition(self.region_code, word)), sort_attribute="SK", sort_prefix=prefix)

    def _postings(self, driver: int, first: tuple[list[Item], Item | None] | None = None) -> ReferenceSource:
        word = self.probed[driver]
        return ReferenceSource(
            self.table,
            self._range(word),
            target=lambda posting: self._candidate(word, posting),
            accept=_current_posting_of(self.where),
            first=first,
        )

    def _candidate(self, word: str, posting: Item) -> dict[str, str] | None:
        """The institution a posting of ``word``'s range names if its name has every word (once per institution)."""
        term, rest = str(posting["SK"]).split("#", 1)
        key, institution_id = rest.rsplit("#", 1)
        terms = name_terms(key)
        first_match = next((candidate for candidate in terms if word_matches(word, candidate)), None)
        if first_match != term or not terms_match(self.words, terms):
            return None
        return _institution_key(institution_id)

    def _rarest(self, probes: Sequence[tuple[list[Item], Item | None]]) -> int:
        """The probe to continue: one that read its whole range (fewest postings), else the best share of matches."""

        def rank(position: int) -> tuple[int, float]:
            postings, after = probes[position]
            if after is None:
                return 1, -len(postings)
            matching = sum(1 for posting in postings if self._candidate(self.probed[position], posting))
            return 0, matching / max(len(postings), 1)

        return max(range(len(probes)), key=rank)


# ---------------------------------------------------------------- list plans


def _institution_filters(where: InstitutionFilter, *, covered: str | None) -> list[Filter]:
    """Conditions on institutions a Query can filter by, but the one its partition already covers."""
    conditions: dict[str, Filter | None] = {
        "kind": ("kind", "=", where.kind) if where.kind else None,
        "sphere": ("spheres", "contains", where.sphere) if where.sphere else None,
        "level": ("level", "=", where.level) if where.level else None,
        "parent_id": ("parent_id", "=", where.parent_id) if where.parent_id else None,
        "has_pages": None if where.has_pages is None else ("page_count", ">" if where.has_pages else "=", 0),
    }
    return [condition for facet, condition in conditions.items() if condition and facet != covered]


def _narrows(where: InstitutionFilter, facet: str) -> bool:
    """True if the filter sets a condition on the facet (a name without searchable words matches every name)."""
    return bool(where.words) if facet == "name" else getattr(where, facet) not in (None, "")


def _institution_source(table: Table, region_code: str, where: InstitutionFilter) -> Source:
    """The partition that serves a filtered list of a region's institutions best, filtering the other conditions."""
    driver = next((facet for facet in _INSTITUTION_DRIVERS if _narrows(where, facet)), None)
    if driver == "name":
        return _NameSearch(table, region_code, where)
    if driver == "sphere":
        postings = Partition(key=("PK", _sphere_partition(region_code, str(where.sphere))), sort_attribute="SK")
        return ReferenceSource(table, postings, target=_posting_target, accept=_current_posting_of(where))
    facet = driver or "all"
    index = _INSTITUTION_INDEXES[facet]
    partition = Partition(
        key=(f"{index}PK", _institution_partition(region_code, facet, getattr(where, facet, None))),
        sort_attribute=f"{index}SK",
        index=index,
        sort_prefix=f"{where.status}#" if where.status else None,
        filters=_institution_filters(where, covered=driver),
    )
    needs_check = _narrows(where, "name") or (_narrows(where, "municipality") and driver != "municipality")
    return IndexSource(
        table, partition, accept=(lambda item: where.matches(_institution_of(item))) if needs_check else None
    )


def _page_filters(where: PageFilter, *, covered: Iterable[str]) -> list[Filter]:
    """Conditions on pages a Query can filter by, but those its partition and sort key prefix already cover."""
    conditions: dict[str, Filter | None] = {
        "status": ("status", "=", where.status) if where.status else None,
        "platform": ("platform", "=", where.platform) if where.platform else None,
        "category": ("category", "=", where.category) if where.category else None,
        "compliance_below": (
            None if where.compliance_below is None else ("compliance_pct", "<", where.compliance_below)
        ),
        "gov_mark": None if where.gov_mark is None else ("gov_mark", "=", where.gov_mark),
    }
    skip = set(covered)
    return [condition for facet, condition in conditions.items() if condition and facet not in skip]


def _region_pages(region_code: str, where: PageFilter) -> Partition:
    """The partition that serves a filtered list of a region's pages best, filtering the other conditions."""
    driver = next((facet for facet in _PAGE_DRIVERS if getattr(where, facet) is not None), None)
    if driver == "compliance_below":
        return Partition(
            key=("GSI5PK", _page_partition(region_code, "compliance")),
            sort_attribute="GSI5SK",
            index="GSI5",
            sort_before=f"{where.compliance_below:03d}",
            filters=_page_filters(where, covered=[driver]),
        )
    if driver:
        index = _PAGE_INDEXES[driver]
        return Partition(
            key=(f"{index}PK", _page_partition(region_code, driver, getattr(where, driver))),
            sort_attribute=f"{index}SK",
            index=index,
            sort_prefix=f"{where.status}#" if where.status else None,
            filters=_page_filters(where, covered=[driver, "status"]),
        )
    leading = []  # GSI1 sorts by status#platform#category#id: a prefix covers the leading ones
    for facet in ("status", "platform", "category"):
        value = getattr(where, facet)
        if not value:
            break
        leading.append(facet)
    return Partition(
        key=("GSI1PK", _page_partition(region_code, "all")),
        sort_attribute="GSI1SK",
        index="GSI1",
        sort_prefix="".join(f"{getattr(where, facet)}#" for facet in leading) or None,
        filters=_page_filters(where, covered=leading),
    )


def _institution_pages(institution_id: str, where: PageFilter) -> Partition:
    """An institution's pages, narrowed by status and platform as a key prefix and filtered by the rest."""
    covered = ["status", "platform"] if where.status and where.platform else ["status"] if where.status else []
    return Partition(
        key=("GSI2PK", f"PAGES#{institution_id}"),
        sort_attribute="GSI2SK",
        index="GSI2",
        sort_prefix="".join(f"{getattr(where, facet)}#" for facet in covered) or None,
        filters=_page_filters(where, covered=covered),
    )


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
        partition = Partition(
            key=("GSI1PK", _institution_partition(region_code, "all")), sort_attribute="GSI1SK", index="GSI1"
        )
        return (_institution_of(item) for item in self._table.query_all(partition))

    def list_institutions(
        self, *, region_codes: Sequence[str], where: InstitutionFilter, limit: int, cursor: str | None
    ) -> tuple[list[InstitutionRecord], str | None]:
        """A page of the regions' institutions (regions in the given order) and the next cursor.

        Within a region by status and name, but a sphere list by name and a name search by the matched word, then
        name. The page may be shorter than ``limit`` while the cursor says more may follow (module docstring).
        """
        budget = RequestBudget(LIST_REQUESTS)
        sources = [
            (code, _institution_source(self._table, code, where))
            for code in self._regions_with_data(region_codes, budget)
        ]
        items, next_cursor = read_across(sources, limit=limit, cursor=cursor, budget=budget)
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
        partition = Partition(
            key=("GSI1PK", _page_partition(region_code, "all")), sort_attribute="GSI1SK", index="GSI1"
        )
        return (_page_of(item) for item in self._table.query_all(partition))

    def active_pages_of(self, institution_id: str) -> list[PageRecord]:
        """An institution's active pages."""
        partition = _institution_pages(institution_id, PageFilter(status="active"))
        return [_page_of(item) for item in self._table.query_all(partition)]

    def pages_archived_with(self, institution_id: str) -> list[PageRecord]:
        """An institution's pages that archiving it archived (``archived_with_institution``)."""
        partition = Partition(
            key=("GSI2PK", f"PAGES#{institution_id}"),
            sort_attribute="GSI2SK",
            index="GSI2",
            sort_prefix="archived#",
            filters=(("archived_with_institution", "=", True),),
        )
        return [_page_of(item) for item in self._table.query_all(partition)]

    def list_pages(
        self, *, region_codes: Sequence[str], where: PageFilter, limit: int, cursor: str | None
    ) -> tuple[list[PageRecord], str | None]:
        """A page of the regions' pages (regions in the given order) and the next cursor (may be short, see above)."""
        budget = RequestBudget(LIST_REQUESTS)
        sources: list[tuple[str, Source]] = [
            (code, IndexSource(self._table, _region_pages(code, where)))
            for code in self._regions_with_data(region_codes, budget)
        ]
        items, next_cursor = read_across(sources, limit=limit, cursor=cursor, budget=budget)
        return [_page_of(item) for item in items], next_cursor

    def list_institution_pages(
        self, *, institution_id: str, where: PageFilter, limit: int, cursor: str | None
    ) -> tuple[list[PageRecord], str | None]:
        """A page of one institution's pages and the next cursor."""
        source = IndexSource(self._table, _institution_pages(institution_id, where))
        budget = RequestBudget(LIST_REQUESTS)
        items, next_cursor = read_across([(institution_id, source)], limit=limit, cursor=cursor, budget=budget)
        return [_page_of(item) for item in items], next_cursor

    def _regions_with_data(self, region_codes: Sequence[str], budget: RequestBudget) -> list[str]:
        """The regions that have institutions (one BatchGetItem of their markers when there are several)."""
        if len(region_codes) == 1:
            return list(region_codes)
        markers = self._table.batch_get((_region_marker_key(code) for code in region_codes), budget=budget)
        present = {_pair(item) for item in markers}
        return [code for code in region_codes if _pair(_region_marker_key(code)) in present]

    # ------------------------------------------------------------ indexes of items stored before them

    def backfill_indexes(self, region_code: str) -> int:
        """Give a region's institutions and pages the index attributes and postings they lack; the items rewritten.

        Safe to repeat and to run beside writes: an item is rewritten only if its attributes differ from what its
        record writes now, and only if its revision is still the one read (else its writer wrote them already).
        """
        rewritten = 0
        indexed: dict[tuple[str, str], Item] = {}
        institutions = Partition(
            key=("GSI1PK", _institution_partition(region_code, "all")), sort_attribute="GSI1SK", index="GSI1"
        )
        for stored in self._table.query_all(institutions):
            record = _institution_of(stored)
            rewritten += self._rewrite(stored, _institution_item(record))
            indexed |= {_pair(posting): posting for posting in _new_postings(Unit(None, record))}
        if indexed:
            indexed[_pair(_region_marker_key(region_code))] = _region_marker(region_code)
        self._table.batch_write({"PutRequest": {"Item": serialize(item)}} for item in indexed.values())
        pages = Partition(key=("GSI1PK", _page_partition(region_code, "all")), sort_attribute="GSI1SK", index="GSI1")
        for stored in self._table.query_all(pages):
            rewritten += self._rewrite(stored, _page_item(_page_of(stored)))
        return rewritten

    def _rewrite(self, stored: Item, item: Item) -> int:
        if stored == item:
            return 0
        revision = {":revision": stored["revision"]}
        return int(self._table.put_if(item, condition="revision = :revision", values=revision))

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
        Conflicts with concurrent transactions are retried by ``transact_write``. The postings a group adds are
        written before its transaction, those its committed units leave are deleted after it (module docstring).
        """
        result = CommitResult()
        for group in self._pack(units):
            self._table.batch_write({"PutRequest": {"Item": serialize(item)}} for item in _index_items(group).values())
            for unit in self._commit_group(group, result):
                revision = {":revision": unit.institution_after["revision"]}
                for key in _stale_postings(unit):
                    self._table.delete_if(key, condition="revision < :revision", values=revision)
        return result

    def write_bulk(self, units: Sequence[Unit]) -> list[OutboxRecord]:
        """Write units with BatchWriteItem (bulk import): outbox items first, then items and postings, then counters.

        No conditions: the caller has read the guards just before, and the last writer wins against a concurrent
        change. The outbox items are written first so a crash midway can only publish events early, never lose
        them; the importer's deterministic ids make a retried import converge on the same items.
        """
        outbox = []
        for record in new_records(event for unit in units for event in unit.events):
            self._table.put(stored_item(record))
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
            for pair, posting in _index_items([unit]).items():
                requests[pair] = {"PutRequest": {"Item": serialize(posting)}}
            for key in _stale_postings(unit):
                requests[_pair(key)] = {"DeleteRequest": {"Key": serialize(key)}}
            delta.update(counter_delta(unit))
        self._table.batch_write(requests.values(), threads=BULK_WRITE_THREADS)
        for key, amounts in _counter_changes(delta):
            self._table.add(key, amounts)
        return outbox

    # ------------------------------------------------------------ outbox

    def outbox_before(self, created_before: str) -> Iterator[OutboxRecord]:
        """Outbox records created before an ISO 8601 time, shard by shard."""
        return records_before(self._client, self._table.name, created_before)

    def delete_outbox(self, records: Iterable[OutboxRecord]) -> None:
        """Forget outbox records whose events are published."""
        delete_records(self._client, self._table.name, records)

    # ------------------------------------------------------------ transactions of units

    def _commit_group(self, group: list[Unit], result: CommitResult) -> list[Unit]:
        """Commit one packed group; the units committed (the failed ones go to ``result``)."""
        pending = list(group)
        while pending:
            items, owners, outbox = self._transaction(pending)
            if not items:
                return pending
            try:
                transact_write(self._client, items)
            except ConditionFailed as failure:
                failed = {owners[index] for index in failure.failed_positions if index < len(owners)}
                if not failed and len(pending) > 1:  # no per-item reasons: find the culprits one unit at a time
                    return [committed for unit in pending for committed in self._commit_group([unit], result)]
                failed = failed or {0}
                result.failed.extend(pending[position] for position in sorted(failed))
                pending = [unit for position, unit in enumerate(pending) if position not in failed]
                continue
            if outbox:
                result.outbox.append(outbox)
            return pending
        return []

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
        outbox = new_record(events) if events else None
        if outbox:
            items.append(transaction_put(self._table.name, outbox))
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
