"""Benchmark: registry list pages at the scale of one large region - 5,000 institutions and 10,000 pages.

Seeds region 54 on the local stack's moto server with bulk writes through the repository, then lists it the way the
API does (the use case functions, a federal admin's principal): every institution and page filter, a few
combinations, name searches, each first page and the second page through its cursor. For each it prints the
DynamoDB requests the page sent (a botocore hook on the process-wide client) next to the goal of at most 10, and the
time per call on the local moto, also as a ratio to a GetItem and to an unfiltered page measured in the same run.
Run: ``.venv/bin/python bench/registry_lists.py [INSTITUTIONS [PAGES]]``.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

INSTITUTIONS = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000
PAGES = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
REGION = "54"
LIMIT = 50
GOAL = 10
REPEATS = 3

KINDS = (  # kind, weight, spheres, name template
    ("school", 30, ["education"], "{form} «Средняя общеобразовательная школа № {n}»"),
    ("kindergarten", 25, ["education"], "МБДОУ «Детский сад № {n} «{nick}»»"),
    ("culture", 10, ["culture"], "МБУК «Дом культуры «{nick}»» {place}"),
    ("library", 8, ["culture", "education"], "МКУК «Библиотека № {n} имени {person}»"),
    ("sport", 5, ["sport", "youth"], "МБУ ДО «Спортивная школа № {n}»"),
    ("hospital", 6, ["healthcare"], "ГБУЗ НСО «Городская больница № {n}»"),
    ("social", 5, ["social"], "ГБУ «Комплексный центр социального обслуживания {place}»"),
    ("administration", 6, ["administration"], "Администрация {place}"),
    ("ministry", 1, ["administration"], "Министерство {field} Новосибирской области"),
    ("other", 4, ["other"], "МКУ «Центр {field} № {n}»"),
)
NICKS = ("Ёлочка", "Солнышко", "Радуга", "Берёзка", "Звёздочка", "Родничок", "Сказка", "Теремок", "Юбилейный")
PERSONS = ("А.С. Пушкина", "Л.Н. Толстого", "А.П. Чехова", "М.Ю. Лермонтова", "Н.В. Гоголя")
FIELDS = ("образования", "культуры", "молодёжной политики", "здравоохранения", "цифрового развития")
PLACES = tuple(f"Района № {n}" for n in range(1, 36)) + ("города Новосибирска", "города Бердска")
MUNICIPALITIES = ("г. Новосибирск",) * 14 + tuple(f"Район № {n}" for n in range(1, 36))


def seed(repository: Any, rng: random.Random) -> tuple[list[Any], list[Any]]:
    """Institutions and pages of one region, written with ``write_bulk`` in chunks as an import does."""
    from services.registry.counters import with_page_change
    from services.registry.pages import finish_page
    from services.registry.records import Unit, institution_record, new_id, now_iso

    now = now_iso()
    institutions: list[Any] = []
    for serial in range(1, INSTITUTIONS + 1):
        kind, _, spheres, template = rng.choices(KINDS, weights=[k[1] for k in KINDS])[0]
        name = template.format(
            form=rng.choice(("МБОУ", "МАОУ", "ГБОУ")),
            n=rng.randint(1, 250),
            nick=rng.choice(NICKS),
            person=rng.choice(PERSONS),
            field=rng.choice(FIELDS),
            place=rng.choice(PLACES),
        )
        parents = [i for i in institutions[-400:] if i["kind"] == "administration"]
        values: dict[str, Any] = {
            "id": new_id(),
            "region_code": REGION,
            "name": name,
            "inn": f"54{serial:08d}",
            "ogrn": f"1{REGION}{serial:010d}",
            "level": "municipal" if rng.random() < 0.8 else rng.choice(("regional", "federal")),
            "kind": kind,
            "spheres": spheres,
            "status": "archived" if rng.random() < 0.05 else "active",
            "municipality": rng.choice(MUNICIPALITIES),
            "parent_id": rng.choice(parents)["id"] if parents and rng.random() < 0.6 else None,
            "page_stats": {},
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
        institutions.append(institution_record(values))
    pages_of: dict[str, list[Any]] = {institution["id"]: [] for institution in institutions}
    platforms = ("vk",) * 14 + ("ok",) * 3 + ("max",) * 2 + ("telegram",)
    items = ("gov_mark", "name_matches", "avatar", "cover", "phone", "address", "connected_to_gospubliki")
    for serial in range(PAGES):
        owner = rng.choice(institutions)
        platform = rng.choice(platforms)
        group_id = 100_000_000 + serial
        page_values: dict[str, Any] = {
            "id": new_id(),
            "institution_id": owner["id"],
            "region_code": REGION,
            "platform": platform,
            "url": f"https://vk.com/club{group_id}" if platform == "vk" else f"https://{platform}.example/{group_id}",
            "group_id": group_id if platform == "vk" else None,
            "category": rng.choice(("card", "card", "active", "flagship")),
            "status": "archived" if rng.random() < 0.1 else "active",
            "checklist": {item: {"value": rng.random() < 0.6, "checked_at": now} for item in items},
            "quality_marks": [],
            "has_access_token": False,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
        pages_of[owner["id"]].append(finish_page(page_values))
    units = []
    for position, institution in enumerate(institutions):
        for page in pages_of[institution["id"]]:
            institution = with_page_change(institution, None, page)
        institutions[position] = institution
        units.append(
            Unit(
                institution_before=None,
                institution_after=institution,
                pages=[(None, page) for page in pages_of[institution["id"]]],
            )
        )
    for start in range(0, len(units), 500):
        repository.write_bulk(units[start : start + 500])
    return institutions, [page for pages in pages_of.values() for page in pages]


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """The call's result and its median time in ms over ``REPEATS`` runs."""
    times = []
    result = None
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return result, statistics.median(times)


def main() -> int:
    from services.registry import bootstrap, institutions, pages
    from services.registry.filters import InstitutionFilter, PageFilter
    from shared.auth import Principal, Role
    from shared.aws import dynamodb
    from tooling.local.stack import LocalStack, StackOptions, free_port

    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(
            StackOptions(
                state_dir=Path(state),
                port=free_port(),
                run_schedules=False,
                dispatch=False,
                snapshot_every_seconds=3600,
                log_level="WARNING",
            )
        )
        stack.start()
        try:
            repository = bootstrap.repository()
            rng = random.Random(54)
            started = time.perf_counter()
            stored, stored_pages = seed(repository, rng)
            print(
                f"seeded region {REGION}: {len(stored)} institutions, {len(stored_pages)} pages "
                f"in {time.perf_counter() - started:.0f} s (write_bulk)"
            )
            calls: list[str] = []
            dynamodb().meta.events.register("before-call.dynamodb", lambda **kwargs: calls.append(kwargs["model"].name))
            principal = Principal(sub="bench", role=Role.FEDERAL_ADMIN)

            sample = stored[len(stored) // 2]
            _, get_ms = timed(lambda: repository.get_institution(sample["id"]))
            _, unfiltered_ms = timed(
                lambda: institutions.list_institutions(
                    repository=repository, principal=principal, where=InstitutionFilter(), region=REGION, limit=LIMIT
                )
            )
            print(f"baseline: GetItem {get_ms:.1f} ms; unfiltered institutions page of {LIMIT}: {unfiltered_ms:.1f} ms")

            parent = next(i["parent_id"] for i in stored if i.get("parent_id"))
            busiest = max(stored, key=lambda i: i["page_stats"].get("pages", 0))["id"]
            institution_cases = {
                "unfiltered": InstitutionFilter(),
                "kind=library": InstitutionFilter(kind="library"),
                "sphere=youth": InstitutionFilter(sphere="youth"),
                "sphere=education": InstitutionFilter(sphere="education"),
                "level=federal": InstitutionFilter(level="federal"),
                "status=archived": InstitutionFilter(status="archived"),
                "municipality=Район № 7": InstitutionFilter(municipality="район № 7"),
                "has_pages=false": InstitutionFilter(has_pages=False),
                "parent_id": InstitutionFilter(parent_id=parent),
                "kind=school & has_pages=false": InstitutionFilter(kind="school", has_pages=False),
                "sphere=culture & level=regional": InstitutionFilter(sphere="culture", level="regional"),
                "status=archived & kind=hospital": InstitutionFilter(status="archived", kind="hospital"),
                "municipality & kind=kindergarten": InstitutionFilter(municipality="Район № 3", kind="kindergarten"),
                "name: школа 5": InstitutionFilter(name="школа 5"),
                "name: мбоу": InstitutionFilter(name="мбоу"),
                "name: детский сад ёлочка": InstitutionFilter(name="детский сад ёлочка"),
                "name: библиотека пушкина & active": InstitutionFilter(name="библиотека пушкина", status="active"),
            }
            page_cases: dict[str, tuple[PageFilter, str | None]] = {
                "unfiltered": (PageFilter(), None),
                "platform=telegram": (PageFilter(platform="telegram"), None),
                "category=flagship": (PageFilter(category="flagship"), None),
                "status=archived": (PageFilter(status="archived"), None),
                "compliance_below=30": (PageFilter(compliance_below=30), None),
                "gov_mark=true": (PageFilter(gov_mark=True), None),
                "platform=ok & category=active": (PageFilter(platform="ok", category="active"), None),
                "compliance<50 & gov_mark=false": (PageFilter(compliance_below=50, gov_mark=False), None),
                "status=archived & platform=max": (PageFilter(status="archived", platform="max"), None),
                "institution_id (busiest)": (PageFilter(), busiest),
            }

            print(f"\n{'list':<48}{'page':>5}{'items':>7}{'requests':>10}{'goal':>6}{'ms':>9}{'x Get':>8}{'x unf.':>8}")
            worst = 0

            def report(label: str, call: Callable[[str | None], Any]) -> None:
                nonlocal worst
                cursor = None
                for number in (1, 2):
                    calls.clear()
                    listing = call(cursor)
                    requests = len(calls)
                    _, ms = timed(lambda cursor=cursor: call(cursor))
                    worst = max(worst, requests)
                    mark = "ok" if requests <= GOAL else "OVER"
                    print(
                        f"{label:<48}{number:>5}{len(listing.items):>7}{requests:>10}{mark:>6}{ms:>9.1f}"
                        f"{ms / get_ms:>8.1f}{ms / unfiltered_ms:>8.2f}"
                    )
                    cursor = listing.next_cursor
                    if cursor is None:
                        break

            for label, where in institution_cases.items():
                report(
                    f"institutions {label}",
                    lambda cursor, where=where: institutions.list_institutions(
                        repository=repository,
                        principal=principal,
                        where=where,
                        region=REGION,
                        limit=LIMIT,
                        cursor=cursor,
                    ),
                )
            for label, (page_where, institution_id) in page_cases.items():
                report(
                    f"pages {label}",
                    lambda cursor, where=page_where, institution_id=institution_id: pages.list_pages(
                        repository=repository,
                        principal=principal,
                        where=where,
                        region=REGION,
                        institution_id=institution_id,
                        limit=LIMIT,
                        cursor=cursor,
                    ),
                )
            report(
                "institutions kind=school, all regions (federal)",
                lambda cursor: institutions.list_institutions(
                    repository=repository,
                    principal=principal,
                    where=InstitutionFilter(kind="school"),
                    limit=LIMIT,
                    cursor=cursor,
                ),
            )
            print(f"\nmost requests of any page: {worst} (goal: at most {GOAL})")
        finally:
            stack.stop(save=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
