"""A random registry written in bulk through the repository, and tools to read lists of it page by page."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, get_args

from services.registry.counters import with_page_change
from services.registry.models import SPHERES, Kind, Level
from services.registry.pages import finish_page
from services.registry.records import InstitutionRecord, PageRecord, Unit, institution_record, new_id, now_iso
from services.registry.repository import RegistryRepository
from shared.aws import dynamodb
from tests.registry.helpers import make_inn, make_ogrn

NAME_PARTS = (
    ("МБОУ", "МБДОУ", "ГБУЗ", "МКУК", "ГАУ"),
    ("Средняя общеобразовательная школа", "Детский сад", "Центральная библиотека", "Городская больница", "Центр"),
    ("№ 5", "№ 15", "№ 50", "№ 5а", "«Ёлочка»", "«Елочка»", "«Солнышко»", "имени А.С. Пушкина", ""),
)
MUNICIPALITIES = ("г. Новосибирск", "Бердск", "Ёлкинский район", None)
PLATFORMS = ("vk", "ok", "max", "telegram")
CATEGORIES = ("flagship", "active", "card")
CHECKLIST_ITEMS = ("gov_mark", "name_matches", "avatar", "cover", "connected_to_gospubliki", "comments_open")
_serials = iter(range(500_000, 10**9))


@dataclass
class Population:
    """What was written: institutions (with their page stats) and pages."""

    institutions: list[InstitutionRecord] = field(default_factory=list)
    pages: list[PageRecord] = field(default_factory=list)


def _institution(rng: random.Random, region_code: str, parents: list[InstitutionRecord]) -> InstitutionRecord:
    serial = next(_serials)
    now = now_iso()
    name = " ".join(part for part in (rng.choice(options) for options in NAME_PARTS) if part)
    values: dict[str, Any] = {
        "id": new_id(),
        "region_code": region_code,
        "name": name,
        "inn": make_inn(serial, region_code),
        "ogrn": make_ogrn(serial, region_code),
        "level": rng.choice(get_args(Level)),
        "kind": rng.choice(get_args(Kind)),
        "spheres": rng.sample(SPHERES, rng.randint(1, 3)),
        "status": "archived" if rng.random() < 0.15 else "active",
        "municipality": rng.choice(MUNICIPALITIES),
        "parent_id": rng.choice(parents)["id"] if parents and rng.random() < 0.2 else None,
        "page_stats": {},
        "revision": 1,
        "created_at": now,
        "updated_at": now,
    }
    return institution_record(values)


def _page(rng: random.Random, institution: InstitutionRecord) -> PageRecord:
    group_id = next(_serials)
    platform = rng.choice(PLATFORMS)
    url = f"https://vk.com/club{group_id}" if platform == "vk" else f"https://example.org/{platform}/{group_id}"
    checked = {item: {"value": rng.random() < 0.5, "checked_at": now_iso()} for item in CHECKLIST_ITEMS}
    values: dict[str, Any] = {
        "id": new_id(),
        "institution_id": institution["id"],
        "region_code": institution["region_code"],
        "platform": platform,
        "url": url,
        "group_id": group_id if platform == "vk" else None,
        "category": rng.choice(CATEGORIES),
        "status": "archived" if rng.random() < 0.2 else "active",
        "checklist": checked,
        "quality_marks": [],
        "has_access_token": False,
        "revision": 1,
        "created_at": now_iso(),
        "updated_at": now_iso(),
    }
    return finish_page(values)


def populate(
    repository: RegistryRepository, *, region_code: str, institutions: int, seed: int, max_pages: int = 3
) -> Population:
    """Write random institutions with 0..``max_pages`` pages each to one region, in bulk."""
    rng = random.Random(seed)
    population = Population()
    units = []
    for _ in range(institutions):
        institution = _institution(rng, region_code, population.institutions)
        pages = [_page(rng, institution) for _ in range(rng.randint(0, max_pages))]
        for page in pages:
            institution = with_page_change(institution, None, page)
        population.institutions.append(institution)
        population.pages.extend(pages)
        units.append(Unit(institution_before=None, institution_after=institution, pages=[(None, p) for p in pages]))
    repository.write_bulk(units)
    return population


@contextmanager
def counted_requests() -> Iterator[list[str]]:
    """The names of the DynamoDB operations the process-wide client sends meanwhile."""
    calls: list[str] = []

    def count(**kwargs: Any) -> None:
        calls.append(kwargs["model"].name)

    events = dynamodb().meta.events
    events.register("before-call.dynamodb", count)
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", count)


def read_all(
    list_page: Callable[[str | None], tuple[list[Any], str | None]], *, max_requests: int, max_pages: int = 500
) -> list[Any]:
    """Every item of a list, page by page through its cursors, each page within ``max_requests`` requests."""
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(max_pages):
        with counted_requests() as calls:
            found, cursor = list_page(cursor)
        assert len(calls) <= max_requests, calls
        items.extend(found)
        if cursor is None:
            return items
    raise AssertionError(f"no end after {max_pages} pages")
