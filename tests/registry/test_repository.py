"""The registry repository's commit: units packed into transactions, failed units reported, the others committed."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from services.registry import bootstrap
from services.registry.counters import COUNTER_ATTRIBUTES
from services.registry.filters import InstitutionFilter
from services.registry.records import (
    CoverageCounters,
    InstitutionRecord,
    Unit,
    institution_event,
    institution_record,
    new_id,
    now_iso,
)
from services.registry.repository import RegistryRepository
from shared.aws import dynamodb
from shared.config import get_settings
from tests.registry.helpers import institution_payload


def new_institution(**overrides: Any) -> InstitutionRecord:
    now = now_iso()
    values = {**institution_payload("54"), "id": new_id(), "status": "active", "page_stats": {}, "revision": 1}
    return institution_record({**values, "created_at": now, "updated_at": now, **overrides})


def created(record: InstitutionRecord) -> Unit:
    return Unit(institution_before=None, institution_after=record, events=[institution_event(record)])


def institutions_counted(repository: RegistryRepository) -> int:
    return repository.coverage_counters(region_codes=["54"], spheres=[])[("54", None)].get("institutions", 0)


class _NoCancellationReasons:
    """A DynamoDB client whose cancelled transactions do not say which items failed (as some stores answer)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        try:
            return self._client.transact_write_items(**kwargs)
        except ClientError as error:
            error.response.pop("CancellationReasons", None)
            raise


@pytest.mark.usefixtures("aws")
def test_failed_units_are_reported_and_the_others_commit() -> None:
    repository = bootstrap.repository()
    first, second = new_institution(), new_institution()
    assert repository.commit([created(first)]).failed == []

    again = created(first)  # already exists: its conditions fail
    result = repository.commit([again, created(second)])

    assert result.failed == [again]
    assert repository.get_institution(second["id"]) == second
    published = [event.body.payload for record in result.outbox for event in record["events"]]
    assert [payload.model_dump()["institution_id"] for payload in published] == [second["id"]]
    assert institutions_counted(repository) == 2


@pytest.mark.usefixtures("aws")
def test_without_cancellation_reasons_units_are_retried_one_at_a_time() -> None:
    repository = RegistryRepository(client=_NoCancellationReasons(dynamodb()), table=get_settings().registry_table)
    first, second = new_institution(), new_institution()
    repository.commit([created(first)])

    again = created(first)
    result = repository.commit([again, created(second)])

    assert result.failed == [again]
    assert repository.get_institution(second["id"]) == second
    assert institutions_counted(repository) == 2


@pytest.mark.usefixtures("aws")
def test_units_are_packed_into_transactions_of_at_most_25_items() -> None:
    repository = bootstrap.repository()
    records = [new_institution() for _ in range(30)]

    result = repository.commit([created(record) for record in records])

    # each unit: institution + OGRN guard; each transaction: + 2 counter items (region, sphere) + 1 outbox item
    assert result.failed == [] and len(result.outbox) == 3
    assert set(repository.get_institutions(record["id"] for record in records)) == {r["id"] for r in records}
    assert institutions_counted(repository) == 30


@pytest.mark.usefixtures("aws")
def test_the_listing_query_and_the_in_memory_filter_agree() -> None:
    repository = bootstrap.repository()
    parent = new_institution(name="Администрация района", kind="administration", spheres=["administration"])
    records = [
        parent,
        new_institution(name="Библиотека № 1", kind="library", spheres=["culture"], parent_id=parent["id"]),
        new_institution(name="Больница", kind="hospital", spheres=["healthcare", "social"], level="regional"),
        new_institution(name="Ёлочка", kind="kindergarten", page_stats={"pages": 2}),
        new_institution(name="Старая школа", status="archived"),
    ]
    assert repository.commit([created(record) for record in records]).failed == []
    filters = [
        InstitutionFilter(),
        InstitutionFilter(kind="library"),
        InstitutionFilter(sphere="social"),
        InstitutionFilter(level="regional"),
        InstitutionFilter(status="archived"),
        InstitutionFilter(has_pages=True),
        InstitutionFilter(has_pages=False),
        InstitutionFilter(name="  ЕЛОЧ"),
        InstitutionFilter(status="active", name="бол"),
        InstitutionFilter(parent_id=parent["id"]),
    ]
    for where in filters:
        listed, _ = repository.list_institutions(region_codes=["54"], where=where, limit=50, cursor=None)
        assert {r["id"] for r in listed} == {r["id"] for r in records if where.matches(r)}, where


def test_the_counters_record_names_every_counter_attribute() -> None:
    assert set(CoverageCounters.__annotations__) == set(COUNTER_ATTRIBUTES)
