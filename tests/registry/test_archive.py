"""Archive and restore: archiving an institution archives its pages, restoring it restores exactly those (a page
archived on its own stays archived), with an event for each page changed and the coverage counters following."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from services.registry.institutions import PAGES_PER_UNIT
from shared.config import get_settings
from tests.registry.helpers import drain


def events() -> list[list[dict[str, Any]]]:
    """The registry events each consumer queue received since the last call."""
    return [drain(url) for url in get_settings().registry_event_queue_urls]


def statuses(client: TestClient, headers: dict[str, str], institution_id: str) -> dict[str, str]:
    listing = client.get(
        "/registry/pages", params={"institution_id": institution_id, "limit": 500}, headers=headers
    ).json()
    return {page["id"]: page["status"] for page in listing["items"]}


def coverage(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    report = client.get("/registry/coverage", params={"region": "54"}, headers=headers).json()
    total: dict[str, Any] = report["regions"][0]["total"]
    return total


def set_status(client: TestClient, headers: dict[str, str], path: str, status: str) -> dict[str, Any]:
    response = client.patch(path, json={"status": status}, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_restoring_restores_the_pages_archiving_took_and_only_those(
    client: TestClient,
    federal: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
) -> None:
    school = create_institution()
    kept, also_kept, retired = (create_page(school["id"]) for _ in range(3))
    set_status(client, federal, f"/registry/pages/{retired['id']}", "archived")
    institution_path = f"/registry/institutions/{school['id']}"

    for cycle in range(2):  # archive and restore twice: the marks of the first cycle do not linger
        archived = set_status(client, federal, institution_path, "archived")
        assert archived["page_count"] == 0 and coverage(client, federal)["pages"] == 0
        assert set(statuses(client, federal, school["id"]).values()) == {"archived"}
        events()

        restored = set_status(client, federal, institution_path, "active")

        assert restored["page_count"] == 2, cycle
        assert statuses(client, federal, school["id"]) == {
            kept["id"]: "active",
            also_kept["id"]: "active",
            retired["id"]: "archived",
        }
        total = coverage(client, federal)
        assert total["institutions"] == 1 and total["institutions_with_pages"] == 1 and total["pages"] == 2
        for received in events():
            assert [m["body"]["type"] for m in received] == ["page.upserted"] * 2 + ["institution.upserted"]
            pages = [m["body"]["payload"] for m in received[:2]]
            assert {p["page_id"] for p in pages} == {kept["id"], also_kept["id"]}
            assert {p["status"] for p in pages} == {"active"}
            assert received[-1]["body"]["payload"]["status"] == "active"
            assert received[-1]["body"]["payload"]["revision"] == restored["revision"]
    page = client.get(f"/registry/pages/{kept['id']}", headers=federal).json()
    assert "archived_with_institution" not in page


def test_a_cascade_larger_than_one_transaction_comes_back_whole(
    client: TestClient,
    federal: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
) -> None:
    school = create_institution()
    pages = [create_page(school["id"]) for _ in range(PAGES_PER_UNIT + 2)]
    set_status(client, federal, f"/registry/pages/{pages[0]['id']}", "archived")
    institution_path = f"/registry/institutions/{school['id']}"
    set_status(client, federal, institution_path, "archived")
    events()

    restored = set_status(client, federal, institution_path, "active")

    assert restored["page_count"] == len(pages) - 1
    expected = {page["id"]: "active" for page in pages[1:]} | {pages[0]["id"]: "archived"}
    assert statuses(client, federal, school["id"]) == expected
    for received in events():
        assert sorted(m["body"]["payload"].get("page_id", "") for m in received[:-1]) == sorted(
            page["id"] for page in pages[1:]
        )
        assert received[-1]["body"]["type"] == "institution.upserted"
