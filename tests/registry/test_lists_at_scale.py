"""Filtered lists: exactly what a brute-force filter over the same data returns, each page in a bounded number of
requests, through cursors checked against the shape of the index they page; items stored before the indexes."""

from __future__ import annotations

import base64
import itertools
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.registry import bootstrap
from services.registry.filters import InstitutionFilter, PageFilter
from services.registry.records import InstitutionRecord, name_key
from services.registry.repository import (
    LIST_REQUESTS,
    _institution_key,
    _page_key,
    _posting_keys,
    _region_marker_key,
)
from shared.aws import dynamodb
from shared.config import get_settings
from shared.dynamo import deserialize, serialize
from shared.errors import BadRequestError
from shared.regions import REGIONS
from tests.registry.population import Population, counted_requests, populate, read_all

REGION = "54"
HTTP_REQUESTS = 10  # the goal: a list page costs at most ten DynamoDB requests


def institution_filters(population: Population, rng: random.Random) -> list[InstitutionFilter]:
    """One filter per facet value, then a sample of pairs and triples of facets (values drawn with ``rng``)."""
    parents = sorted({i["parent_id"] for i in population.institutions if i.get("parent_id")})
    values: dict[str, list[Any]] = {
        "kind": ["school", "other"],
        "sphere": ["education", "youth"],
        "level": ["federal", "municipal"],
        "status": ["active", "archived"],
        "has_pages": [True, False],
        "municipality": ["г. новосибирск", "ЕЛКИНСКИЙ РАЙОН"],
        "parent_id": parents[:1],
        "name": ["школа 5", "сад ёлочка"],
    }
    singles = [InstitutionFilter(**{facet: value}) for facet, options in values.items() for value in options]
    combinations = [
        *rng.sample(list(itertools.combinations(values, 2)), 12),
        *rng.sample(list(itertools.combinations(values, 3)), 4),
    ]
    mixed = [InstitutionFilter(**{facet: rng.choice(values[facet]) for facet in facets}) for facets in combinations]
    return [InstitutionFilter(), *singles, *mixed]


def page_filters(rng: random.Random) -> list[PageFilter]:
    """One filter per facet value, then a sample of pairs and one triple."""
    values: dict[str, list[Any]] = {
        "platform": ["vk", "telegram"],
        "category": ["flagship", "card"],
        "status": ["active", "archived"],
        "compliance_below": [0, 40, 101],
        "gov_mark": [True, False],
    }
    singles = [PageFilter(**{facet: value}) for facet, options in values.items() for value in options]
    pairs = [
        PageFilter(**{first: rng.choice(values[first]), second: rng.choice(values[second])})
        for first, second in rng.sample(list(itertools.combinations(values, 2)), 8)
    ]
    return [PageFilter(), *singles, *pairs, PageFilter(platform="vk", category="card", status="active")]


def institution_order(record: InstitutionRecord) -> str:
    """Lists served by an index are sorted by status, then name (as the index's sort key compares them)."""
    return f"{record['status']}#{name_key(record['name'])}#{record['id']}"


@pytest.mark.usefixtures("aws")
def test_lists_match_brute_force_in_bounded_requests() -> None:
    repository = bootstrap.repository()
    population = populate(repository, region_code=REGION, institutions=100, seed=20261129)
    rng = random.Random(7)
    for where in institution_filters(population, rng):
        listed = read_all(
            lambda cursor, where=where: repository.list_institutions(
                region_codes=[REGION], where=where, limit=20, cursor=cursor
            ),
            max_requests=LIST_REQUESTS,
        )
        assert len(listed) == len({r["id"] for r in listed}), where
        assert {r["id"] for r in listed} == {r["id"] for r in population.institutions if where.matches(r)}, where
        if not where.name and not where.sphere:
            assert listed == sorted(listed, key=institution_order), where

    for page_where in page_filters(rng):
        pages = read_all(
            lambda cursor, where=page_where: repository.list_pages(
                region_codes=[REGION], where=where, limit=25, cursor=cursor
            ),
            max_requests=LIST_REQUESTS,
        )
        expected = {p["id"] for p in population.pages if page_where.matches(p)}
        assert len(pages) == len({p["id"] for p in pages}) and {p["id"] for p in pages} == expected, page_where

    busiest = max(population.institutions, key=lambda i: i["page_stats"].get("pages", 0))
    for page_where in (PageFilter(), PageFilter(status="active", platform="vk"), PageFilter(category="card")):
        pages = read_all(
            lambda cursor, where=page_where: repository.list_institution_pages(
                institution_id=busiest["id"], where=where, limit=1, cursor=cursor
            ),
            max_requests=LIST_REQUESTS,
        )
        own = [p for p in population.pages if p["institution_id"] == busiest["id"]]
        assert {p["id"] for p in pages} == {p["id"] for p in own if page_where.matches(p)}, page_where


@pytest.mark.usefixtures("aws")
def test_a_federal_list_reads_only_regions_with_institutions() -> None:
    repository = bootstrap.repository()
    novosibirsk = populate(repository, region_code=REGION, institutions=40, seed=5)
    altai = populate(repository, region_code="22", institutions=20, seed=3)
    everyone = [*altai.institutions, *novosibirsk.institutions]
    all_regions = [region.code for region in REGIONS]
    for where in (InstitutionFilter(), InstitutionFilter(kind="school"), InstitutionFilter(name="школа")):
        listed = read_all(
            lambda cursor, where=where: repository.list_institutions(
                region_codes=all_regions, where=where, limit=15, cursor=cursor
            ),
            max_requests=LIST_REQUESTS,
        )
        regions = [r["region_code"] for r in listed]
        assert regions == sorted(regions), where
        assert {r["id"] for r in listed} == {r["id"] for r in everyone if where.matches(r)}, where
    pages = read_all(
        lambda cursor: repository.list_pages(
            region_codes=all_regions, where=PageFilter(gov_mark=True), limit=30, cursor=cursor
        ),
        max_requests=LIST_REQUESTS,
    )
    assert {p["id"] for p in pages} == {p["id"] for p in [*altai.pages, *novosibirsk.pages] if p["gov_mark"]}


def test_http_list_pages_cost_at_most_ten_requests_and_a_crafted_cursor_is_400(
    aws: Any, client: TestClient, auth_header: Callable[..., dict[str, str]]
) -> None:
    del aws
    population = populate(bootstrap.repository(), region_code=REGION, institutions=60, seed=17)
    institution = next(i for i in population.institutions if i["page_stats"].get("pages"))
    calls_per_page = []
    for role, path, params in (
        ("regional_admin", "/registry/institutions", {"kind": "school", "has_pages": True}),
        ("regional_admin", "/registry/institutions", {"name": "сад", "status": "active"}),
        ("federal_admin", "/registry/institutions", {"sphere": "education"}),
        ("regional_admin", "/registry/pages", {"compliance_below": 50, "platform": "vk"}),
        ("institution_admin", "/registry/pages", {}),
    ):
        headers = auth_header(role, REGION, institution["id"] if role == "institution_admin" else None)
        with counted_requests() as calls:
            response = client.get(path, params={**params, "limit": 20}, headers=headers)
        assert response.status_code == 200, response.text
        calls_per_page.append(len(calls))
    assert max(calls_per_page) <= HTTP_REQUESTS, calls_per_page

    federal = auth_header("federal_admin")
    params = {"region": REGION, "category": "card", "limit": 1}
    cursor = client.get("/registry/pages", params=params, headers=federal).json()["next_cursor"]
    crafted = _recode(cursor, GSI3PK="REGION#54#CATEGORY#flagship")
    response = client.get("/registry/pages", params={**params, "cursor": crafted}, headers=federal)
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "cursor"


def _recode(cursor: str, **changes: Any) -> str:
    """The cursor with attributes changed (``None`` removes one)."""
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw.update(changes)
    raw = {name: value for name, value in raw.items() if value is not None}
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def _first_cursor(list_page: Callable[[str | None], tuple[list[Any], str | None]]) -> dict[str, Any]:
    _, cursor = list_page(None)
    assert cursor is not None
    return {"cursor": cursor, **json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))}


@pytest.mark.usefixtures("aws")
def test_cursors_are_checked_against_the_shape_of_what_they_page() -> None:
    repository = bootstrap.repository()
    populate(repository, region_code=REGION, institutions=60, seed=23)

    def institutions(where: InstitutionFilter) -> Callable[[str | None], Any]:
        return lambda cursor: repository.list_institutions(region_codes=[REGION], where=where, limit=1, cursor=cursor)

    def pages(where: PageFilter) -> Callable[[str | None], Any]:
        return lambda cursor: repository.list_pages(region_codes=[REGION], where=where, limit=1, cursor=cursor)

    kind = _first_cursor(institutions(InstitutionFilter(kind="school", status="active")))
    assert set(kind) == {"cursor", "r", "PK", "SK", "GSI2PK", "GSI2SK"}
    sphere = _first_cursor(institutions(InstitutionFilter(sphere="education")))
    assert set(sphere) == {"cursor", "r", "PK", "SK"}
    search = _first_cursor(institutions(InstitutionFilter(name="школа")))
    assert set(search) == {"cursor", "r", "t", "PK", "SK"}
    compliance = _first_cursor(pages(PageFilter(compliance_below=90)))
    assert set(compliance) == {"cursor", "r", "PK", "SK", "GSI5PK", "GSI5SK"}

    bad = [
        (
            institutions(InstitutionFilter(kind="school", status="active")),
            _recode(kind["cursor"], GSI2PK="REGION#54#KIND#library"),
        ),
        (
            institutions(InstitutionFilter(kind="school", status="active")),
            _recode(kind["cursor"], GSI2SK="archived#a#b"),
        ),
        (institutions(InstitutionFilter(kind="school", status="active")), _recode(kind["cursor"], extra="x")),
        (institutions(InstitutionFilter(kind="school", status="active")), _recode(kind["cursor"], SK=None)),
        (institutions(InstitutionFilter(kind="school", status="active")), _recode(kind["cursor"], r="77")),
        (institutions(InstitutionFilter(level="municipal")), kind["cursor"]),
        (institutions(InstitutionFilter(sphere="education")), _recode(sphere["cursor"], PK="SPHERE#54#youth")),
        (institutions(InstitutionFilter(sphere="youth")), sphere["cursor"]),
        (institutions(InstitutionFilter(name="школа")), _recode(search["cursor"], t=3)),
        (institutions(InstitutionFilter(name="школа")), _recode(search["cursor"], t="0")),
        (institutions(InstitutionFilter(name="школа")), _recode(search["cursor"], SK="детский#x#y")),
        (institutions(InstitutionFilter(name="сад")), search["cursor"]),
        (pages(PageFilter(compliance_below=90)), _recode(compliance["cursor"], GSI5SK="095#x")),
        (pages(PageFilter(compliance_below=90)), _recode(compliance["cursor"], GSI5SK=7)),
        (pages(PageFilter()), compliance["cursor"]),
        (institutions(InstitutionFilter()), "not a cursor!"),
    ]
    for list_page, cursor in bad:
        with pytest.raises(BadRequestError):
            list_page(cursor)
    # a cursor that names only where to start (a region) is fine
    start = _recode(kind["cursor"], PK=None, SK=None, GSI2PK=None, GSI2SK=None)
    items, _ = institutions(InstitutionFilter(kind="school", status="active"))(start)
    assert items


def _legacy(item: dict[str, Any]) -> dict[str, Any]:
    """An item as stored before the list indexes: institutions in GSI1, pages in GSI1 and GSI2."""
    kept = ("GSI1",) if item["entity"] == "institution" else ("GSI1", "GSI2")
    return {name: value for name, value in item.items() if not name.startswith("GSI") or name.startswith(kept)}


def _forget_postings(client: Any, table: str, population: Population) -> None:
    """Delete every posting and the region marker: a table written before them has none."""
    keys = [{"PK": pk, "SK": sk} for record in population.institutions for pk, sk in _posting_keys(record)]
    for key in [*keys, _region_marker_key(REGION)]:
        client.delete_item(TableName=table, Key=serialize(key))


def test_backfill_gives_items_stored_before_the_indexes_what_lists_need(aws: Any) -> None:
    del aws
    repository = bootstrap.repository()
    population = populate(repository, region_code=REGION, institutions=25, seed=11)
    table = get_settings().registry_table
    client = dynamodb()
    keys = [_institution_key(i["id"]) for i in population.institutions] + [_page_key(p["id"]) for p in population.pages]
    stored = [deserialize(client.get_item(TableName=table, Key=serialize(key))["Item"]) for key in keys]
    _forget_postings(client, table, population)
    for item in stored:
        client.put_item(TableName=table, Item=serialize(_legacy(item)))
    schools = InstitutionFilter(kind="school")
    assert repository.list_institutions(region_codes=[REGION], where=schools, limit=100, cursor=None) == ([], None)

    assert repository.backfill_indexes(REGION) == len(stored)
    assert repository.backfill_indexes(REGION) == 0  # idempotent

    everywhere = [region.code for region in REGIONS]
    for where in (schools, InstitutionFilter(name="школа"), InstitutionFilter(sphere="youth")):
        listed = read_all(
            lambda cursor, where=where: repository.list_institutions(
                region_codes=everywhere, where=where, limit=7, cursor=cursor
            ),
            max_requests=LIST_REQUESTS,
        )
        assert {r["id"] for r in listed} == {r["id"] for r in population.institutions if where.matches(r)}, where
    low = PageFilter(compliance_below=50)
    listed_pages = read_all(
        lambda cursor: repository.list_pages(region_codes=[REGION], where=low, limit=9, cursor=cursor),
        max_requests=LIST_REQUESTS,
    )
    assert {p["id"] for p in listed_pages} == {p["id"] for p in population.pages if low.matches(p)}
