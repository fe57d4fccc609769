"""Name search: any words of the name in any order, case and ё/е ignored, word prefixes, numbers exact; the same
institutions a brute-force filter finds, page by page; renames move the postings and a stale one is never listed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.registry import bootstrap
from services.registry.filters import InstitutionFilter
from services.registry.records import Unit, bump, institution_event, institution_record
from services.registry.repository import LIST_REQUESTS, RegistryRepository
from shared.aws import dynamodb
from shared.config import get_settings
from tests.registry.population import counted_requests, populate, read_all

SCHOOL_5 = "МБОУ «Средняя общеобразовательная школа № 5»"
NAMES = (
    SCHOOL_5,
    "МБОУ «Средняя общеобразовательная школа № 15»",
    "МБОУ «Средняя общеобразовательная школа № 50»",
    "МБДОУ Детский сад № 5 «Ёлочка»",
    "ГБУЗ Городская больница № 5",
    "Центр школьного творчества «Школа искусств»",
)


def search(client: TestClient, headers: dict[str, str], text: str, **params: Any) -> list[str]:
    """The names a search lists, through every page."""
    names: list[str] = []
    cursor = None
    while True:
        query = {"region": "54", "name": text, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/registry/institutions", params=query, headers=headers)
        assert response.status_code == 200, response.text
        names += [item["name"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return names


def test_words_in_any_order_ignoring_case_and_yo(
    client: TestClient, federal: dict[str, str], create_institution: Callable[..., dict[str, Any]]
) -> None:
    for name in NAMES:
        create_institution(name=name)
    create_institution("22", name=SCHOOL_5)  # another region: not listed for region 54

    assert search(client, federal, "школа 5") == [SCHOOL_5]
    assert search(client, federal, "5 ШКОЛА") == [SCHOOL_5]
    assert search(client, federal, "средн общеобраз 15") == [NAMES[1]]
    assert sorted(search(client, federal, "школ")) == sorted([*NAMES[:3], NAMES[5]])
    assert search(client, federal, "школ", limit=1).count(NAMES[5]) == 1  # two of its words match: listed once
    assert search(client, federal, "ЁЛОЧКА") == search(client, federal, "елочка") == [NAMES[3]]
    assert sorted(search(client, federal, "мб")) == sorted(NAMES[:4])
    assert sorted(search(client, federal, "№ 5")) == sorted([SCHOOL_5, NAMES[3], NAMES[4]])
    assert search(client, federal, "сош") == []
    assert search(client, federal, "школа 5", status="archived") == []
    for unsearchable in ("а", "№ ?"):
        response = client.get("/registry/institutions", params={"name": unsearchable}, headers=federal)
        assert response.status_code == 422 and response.json()["detail"][0]["field"] == "name"


@pytest.mark.usefixtures("aws")
def test_search_finds_what_a_brute_force_filter_finds_in_bounded_requests() -> None:
    repository = bootstrap.repository()
    population = populate(repository, region_code="54", institutions=80, seed=99, max_pages=0)
    queries = ("мбоу", "школа 5", "5", "5а", "елочка", "ЁЛОЧКА центр", "пушкина им", "гор боль", "детский сад 50")
    for text in (*queries, "центр библиотека", "а с пушкина", "гау"):
        where = InstitutionFilter(name=text)
        listed = read_all(
            lambda cursor, where=where: repository.list_institutions(
                region_codes=["54"], where=where, limit=4, cursor=cursor
            ),
            max_requests=LIST_REQUESTS,
        )
        assert len(listed) == len({r["id"] for r in listed}), text
        assert {r["id"] for r in listed} == {r["id"] for r in population.institutions if where.matches(r)}, text


class _DeferredDeletes:
    """A DynamoDB client that holds DeleteItem requests back (as a crash before the cleanup would)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.held: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def delete_item(self, **kwargs: Any) -> dict[str, Any]:
        self.held.append(kwargs)
        return {}


def _renamed(repository: RegistryRepository, institution_id: str, name: str) -> None:
    before = repository.get_institution(institution_id)
    assert before is not None
    after = bump(institution_record({**before, "name": name}), at=before["updated_at"])
    unit = Unit(institution_before=before, institution_after=after, events=[institution_event(after)])
    assert repository.commit([unit]).failed == []


def _found(repository: RegistryRepository, text: str) -> list[str]:
    listed, _ = repository.list_institutions(
        region_codes=["54"], where=InstitutionFilter(name=text), limit=50, cursor=None
    )
    return [record["id"] for record in listed]


def test_a_renamed_institution_is_found_by_its_new_name_only(
    aws: Any, create_institution: Callable[..., dict[str, Any]]
) -> None:
    del aws
    institution_id = create_institution(name="Библиотека имени Чехова")["id"]
    repository = bootstrap.repository()
    with counted_requests() as calls:
        _renamed(repository, institution_id, "Библиотека имени Толстого")
    assert calls.count("DeleteItem") == 4  # postings are keyed by the name: its three terms' and its sphere's
    assert _found(repository, "чехов") == [] and _found(repository, "толстой") == []
    assert _found(repository, "толст библ") == [institution_id]

    # a cleanup that never ran leaves stale postings: they are checked against the record and skipped
    deferring = _DeferredDeletes(dynamodb())
    crashing = RegistryRepository(client=deferring, table=get_settings().registry_table)
    _renamed(crashing, institution_id, "Библиотека имени Пушкина")
    assert deferring.held and _found(repository, "толстого") == [] and _found(repository, "пушкина") == [institution_id]

    # a late cleanup keeps the postings a later change wrote again
    _renamed(repository, institution_id, "Библиотека имени Толстого")
    for request in deferring.held:
        with pytest.raises(dynamodb().exceptions.ConditionalCheckFailedException):
            dynamodb().delete_item(**request)
    assert _found(repository, "толстого") == [institution_id] and _found(repository, "пушкина") == []


def test_an_unrelated_change_writes_no_postings(
    client: TestClient, federal: dict[str, str], create_institution: Callable[..., dict[str, Any]]
) -> None:
    institution = create_institution(name="Дом культуры «Юбилейный»")
    with counted_requests() as calls:
        changed = client.patch(
            f"/registry/institutions/{institution['id']}", json={"short_name": "ДК"}, headers=federal
        )
    assert changed.status_code == 200
    written_ahead = calls[: calls.index("TransactWriteItems")]  # (the BatchWriteItem after it clears the outbox)
    assert "BatchWriteItem" not in written_ahead and "DeleteItem" not in calls
