"""Institutions and pages over HTTP: create/read/update, duplicates, role scopes, lists, archive, coverage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.registry.helpers import institution_payload, make_inn, make_ogrn, page_payload

Headers = Callable[..., dict[str, str]]


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "service": "registry"}
    assert client.get("/registry/regions").status_code == 401


def test_regions(client: TestClient, federal: dict[str, str]) -> None:
    regions = client.get("/registry/regions", headers=federal).json()
    assert len(regions) == 89
    assert {"code": "54", "name": "Новосибирская область", "timezone": "Asia/Novosibirsk"} in regions


def test_create_read_update_institution(
    client: TestClient, admin54: dict[str, str], create_institution: Callable[..., dict[str, Any]]
) -> None:
    parent = create_institution(kind="administration", spheres=["administration"], name="Администрация района")
    body = institution_payload(kpp="540101001", oktmo="50701000", parent_id=parent["id"], website="school.ru")
    created = client.post("/registry/institutions", json=body, headers=admin54)
    assert created.status_code == 201, created.text
    institution = created.json()
    assert institution["website"] == "https://school.ru"
    assert institution["status"] == "active" and institution["page_count"] == 0
    fetched = client.get(f"/registry/institutions/{institution['id']}", headers=admin54).json()
    assert fetched == institution
    patched = client.patch(
        f"/registry/institutions/{institution['id']}",
        json={"short_name": "СОШ", "kpp": None, "spheres": ["education", "youth"]},
        headers=admin54,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["short_name"] == "СОШ" and patched.json()["kpp"] is None
    assert patched.json()["revision"] == institution["revision"] + 1
    same = client.patch(f"/registry/institutions/{institution['id']}", json={"short_name": "СОШ"}, headers=admin54)
    assert same.json()["revision"] == patched.json()["revision"]
    bad = client.patch(f"/registry/institutions/{institution['id']}", json={"name": None}, headers=admin54)
    assert bad.status_code == 422 and bad.json()["message"] == "name: cannot be null"
    unknown_parent = client.patch(
        f"/registry/institutions/{institution['id']}", json={"parent_id": "x"}, headers=admin54
    )
    assert unknown_parent.status_code == 422 and unknown_parent.json()["detail"][0]["field"] == "parent_id"


def test_institution_time_zone(
    client: TestClient, admin54: dict[str, str], create_institution: Callable[..., dict[str, Any]]
) -> None:
    plain = create_institution()
    assert plain["time_zone"] is None  # the region's zone
    body = institution_payload(time_zone="asia/krasnoyarsk")
    created = client.post("/registry/institutions", json=body, headers=admin54)
    assert created.status_code == 201, created.text
    institution = created.json()
    assert institution["time_zone"] == "Asia/Krasnoyarsk"
    url = f"/registry/institutions/{institution['id']}"
    assert client.get(url, headers=admin54).json()["time_zone"] == "Asia/Krasnoyarsk"
    moved = client.patch(url, json={"time_zone": "Asia/Novosibirsk"}, headers=admin54)
    assert moved.status_code == 200 and moved.json()["time_zone"] == "Asia/Novosibirsk"
    assert moved.json()["revision"] == institution["revision"] + 1
    for zone, reason in (("Europe/Berlin", "not one of Russia's time zones"), ("Asia/Novosibirk", "unknown time zone")):
        bad = client.patch(url, json={"time_zone": zone}, headers=admin54)
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "time_zone"
        assert bad.json()["message"].startswith(f"time_zone: {reason}")
    assert client.get(url, headers=admin54).json()["time_zone"] == "Asia/Novosibirsk"
    cleared = client.patch(url, json={"time_zone": None}, headers=admin54)
    assert cleared.status_code == 200 and cleared.json()["time_zone"] is None
    assert client.get(url, headers=admin54).json()["time_zone"] is None


def test_duplicates_are_409(
    client: TestClient,
    federal: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
) -> None:
    first = create_institution()
    again = client.post("/registry/institutions", json=institution_payload(ogrn=first["ogrn"]), headers=federal)
    assert again.status_code == 409 and again.json()["message"].startswith("ogrn: already registered")
    other = create_institution()
    clash = client.patch(f"/registry/institutions/{other['id']}", json={"ogrn": first["ogrn"]}, headers=federal)
    assert clash.status_code == 409
    page = create_page(first["id"], group_id=201077021)
    same_group = client.post(
        f"/registry/institutions/{other['id']}/pages",
        json=page_payload(201077021, url="https://vk.com/school_other"),
        headers=federal,
    )
    assert same_group.status_code == 409 and same_group.json()["detail"][0]["field"] == "group_id"
    same_url = client.post(
        f"/registry/institutions/{other['id']}/pages", json={"url": "vk.com/CLUB201077021/"}, headers=federal
    )
    assert same_url.status_code == 409
    # an OGRN freed by a change can be taken again
    moved = client.patch(
        f"/registry/institutions/{first['id']}",
        json={"ogrn": make_ogrn(900001), "inn": make_inn(900001)},
        headers=federal,
    )
    assert moved.status_code == 200
    reuse = client.post("/registry/institutions", json=institution_payload(ogrn=first["ogrn"]), headers=federal)
    assert reuse.status_code == 201
    assert client.get(f"/registry/pages/{page['id']}", headers=federal).status_code == 200


def test_page_rules(
    client: TestClient, federal: dict[str, str], create_institution: Callable[..., dict[str, Any]]
) -> None:
    institution = create_institution()
    url = f"/registry/institutions/{institution['id']}/pages"
    inferred = client.post(url, json={"url": "https://vk.com/public77001", "category": "flagship"}, headers=federal)
    assert inferred.status_code == 201 and inferred.json()["group_id"] == 77001
    wrong_platform = client.post(url, json={"platform": "ok", "url": "https://vk.com/club5"}, headers=federal)
    assert wrong_platform.status_code == 422 and wrong_platform.json()["message"].startswith("url:")
    ok_page = client.post(url, json={"platform": "ok", "url": "https://ok.ru/group/5"}, headers=federal)
    assert ok_page.status_code == 201
    no_group = client.post(
        url,
        json={"url": "https://vk.com/school5", "callback": {"confirmation_code": "1a2b3c4d", "secret": "s" * 16}},
        headers=federal,
    )
    assert no_group.status_code == 422 and no_group.json()["detail"][0]["field"] == "group_id"
    short_secret = client.post(
        url, json={**page_payload(), "callback": {"confirmation_code": "1a2b3c4d", "secret": "x"}}, headers=federal
    )
    assert short_secret.status_code == 422 and short_secret.json()["message"].startswith("callback.secret")
    bad_widgets = client.post(url, json={**page_payload(), "checklist": {"pos_widgets": 3}}, headers=federal)
    assert bad_widgets.status_code == 422 and bad_widgets.json()["message"].startswith("checklist.pos_widgets")


def test_checklist_and_compliance(
    client: TestClient, federal: dict[str, str], create_institution: Callable[..., dict[str, Any]]
) -> None:
    institution = create_institution()
    full = dict.fromkeys(("name_matches", "description", "phone", "address", "schedule", "email"), True)
    full |= {"website_link": True, "avatar": True, "cover": True, "gov_mark": True, "connected_to_gospubliki": True}
    full |= {"comments_open": True, "pos_widgets": 2}
    page = client.post(
        f"/registry/institutions/{institution['id']}/pages", json={**page_payload(), "checklist": full}, headers=federal
    ).json()
    assert page["compliance_pct"] == 100
    assert page["checklist"]["gov_mark"]["checked_at"]
    half = client.patch(
        f"/registry/pages/{page['id']}",
        json={"checklist": {"pos_widgets": 1, "gov_mark": False, "checked_at": "2025-01-10T10:00:00Z"}},
        headers=federal,
    ).json()
    assert half["compliance_pct"] == 80
    assert half["checklist"]["gov_mark"] == {"value": False, "checked_at": "2025-01-10T10:00:00Z"}
    assert half["checklist"]["phone"]["value"] is True
    low = client.get("/registry/pages", params={"region": "54", "compliance_below": 90}, headers=federal).json()
    assert page["id"] in [p["id"] for p in low["items"]]
    marked = client.get("/registry/pages", params={"region": "54", "gov_mark": True}, headers=federal).json()
    assert page["id"] not in [p["id"] for p in marked["items"]]


def test_role_scopes(
    client: TestClient,
    auth_header: Headers,
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
) -> None:
    adygea = create_institution("01")
    adygea_page = create_page(adygea["id"])
    home = create_institution("54")
    home_page = create_page(home["id"])
    admin54 = auth_header("regional_admin", "54")
    operator54 = auth_header("operator", "54")
    portal54 = auth_header("portal", "54")
    own_admin = auth_header("institution_admin", "54", home["id"])

    # a regional admin of 54 cannot see (404) or change (403) region 01
    assert client.get(f"/registry/institutions/{adygea['id']}", headers=admin54).status_code == 404
    assert client.get(f"/registry/pages/{adygea_page['id']}", headers=admin54).status_code == 404
    assert client.get("/registry/institutions", params={"region": "01"}, headers=admin54).status_code == 404
    assert (
        client.patch(f"/registry/institutions/{adygea['id']}", json={"short_name": "x"}, headers=admin54).status_code
        == 403
    )
    assert (
        client.patch(f"/registry/pages/{adygea_page['id']}", json={"category": "card"}, headers=admin54).status_code
        == 403
    )
    assert client.post("/registry/institutions", json=institution_payload("01"), headers=admin54).status_code == 403
    assert (
        client.post(f"/registry/institutions/{adygea['id']}/pages", json=page_payload(), headers=admin54).status_code
        == 403
    )
    listed = client.get("/registry/institutions", headers=admin54).json()["items"]
    assert {i["region_code"] for i in listed} == {"54"}
    assert {p["region_code"] for p in client.get("/registry/pages", headers=admin54).json()["items"]} == {"54"}

    # operators and portal clients read their region, write nothing
    for headers in (operator54, portal54):
        assert client.get(f"/registry/institutions/{home['id']}", headers=headers).status_code == 200
        assert client.get(f"/registry/institutions/{adygea['id']}", headers=headers).status_code == 404
        assert (
            client.patch(f"/registry/pages/{home_page['id']}", json={"category": "card"}, headers=headers).status_code
            == 403
        )
        assert client.post("/registry/institutions", json=institution_payload(), headers=headers).status_code == 403

    # an institution admin sees and edits its own pages only, and cannot edit institutions
    assert client.get(f"/registry/institutions/{home['id']}", headers=own_admin).status_code == 200
    other = create_institution("54")
    assert client.get(f"/registry/institutions/{other['id']}", headers=own_admin).status_code == 404
    assert [i["id"] for i in client.get("/registry/institutions", headers=own_admin).json()["items"]] == [home["id"]]
    assert [p["id"] for p in client.get("/registry/pages", headers=own_admin).json()["items"]] == [home_page["id"]]
    edited = client.patch(f"/registry/pages/{home_page['id']}", json={"checklist": {"avatar": True}}, headers=own_admin)
    assert edited.status_code == 200
    assert (
        client.post(f"/registry/institutions/{home['id']}/pages", json=page_payload(), headers=own_admin).status_code
        == 201
    )
    assert (
        client.post(f"/registry/institutions/{other['id']}/pages", json=page_payload(), headers=own_admin).status_code
        == 403
    )
    assert (
        client.patch(f"/registry/institutions/{home['id']}", json={"short_name": "x"}, headers=own_admin).status_code
        == 403
    )
    assert client.get("/registry/coverage", headers=own_admin).status_code == 403
    assert client.get("/registry/export", params={"region": "54"}, headers=own_admin).status_code == 403

    # a federal admin sees every region
    everything = client.get(
        "/registry/institutions", headers=auth_header("federal_admin"), params={"limit": 500}
    ).json()
    assert {"01", "54"} <= {i["region_code"] for i in everything["items"]}


def test_list_filters_and_cursor(
    client: TestClient,
    federal: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
) -> None:
    names = [f"Библиотека № {n}" for n in range(5)]
    made = [create_institution("22", name=name, kind="library", spheres=["culture"]) for name in names]
    create_institution("22", name="Больница", kind="hospital", spheres=["healthcare"], level="regional")
    create_page(made[0]["id"])
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"region": "22", "kind": "library", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        listing = client.get("/registry/institutions", params=params, headers=federal).json()
        seen += [i["name"] for i in listing["items"]]
        cursor = listing["next_cursor"]
        if not cursor:
            break
    assert seen == names
    prefix = client.get("/registry/institutions", params={"region": "22", "name": "больн"}, headers=federal).json()
    assert [i["name"] for i in prefix["items"]] == ["Больница"]
    by_status = client.get(
        "/registry/institutions", params={"region": "22", "status": "active", "name": "библ"}, headers=federal
    )
    assert len(by_status.json()["items"]) == 5
    with_pages = client.get(
        "/registry/institutions", params={"region": "22", "has_pages": True}, headers=federal
    ).json()
    assert [i["id"] for i in with_pages["items"]] == [made[0]["id"]]
    healthcare = client.get(
        "/registry/institutions", params={"region": "22", "sphere": "healthcare"}, headers=federal
    ).json()
    assert [i["name"] for i in healthcare["items"]] == ["Больница"]
    # a federal list across regions pages through every region with one cursor
    everything, cursor = [], None
    while True:
        params = {"limit": 3, "kind": "library"}
        if cursor:
            params["cursor"] = cursor
        listing = client.get("/registry/institutions", params=params, headers=federal).json()
        everything += listing["items"]
        cursor = listing["next_cursor"]
        if not cursor:
            break
    assert len(everything) == len({i["id"] for i in everything}) >= 5
    assert client.get("/registry/institutions", params={"cursor": "garbage!"}, headers=federal).status_code == 400
    assert (
        client.get("/registry/institutions", params={"region": "00"}, headers=federal)
        .json()["message"]
        .startswith("region:")
    )


def test_archive_cascades_and_coverage(
    client: TestClient,
    federal: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
) -> None:
    school = create_institution("42", spheres=["education", "youth"])
    create_institution("42", kind="culture", spheres=["culture"], no_page_reason="Приказ № 5")
    create_institution("42", kind="library", spheres=["culture"])
    pages = [create_page(school["id"]) for _ in range(3)]
    client.patch(f"/registry/pages/{pages[0]['id']}", json={"checklist": {"gov_mark": True}}, headers=federal)
    client.post(
        f"/registry/institutions/{school['id']}/pages",
        json={"platform": "ok", "url": "ok.ru/group/42"},
        headers=federal,
    )

    report = client.get("/registry/coverage", params={"region": "42"}, headers=federal).json()
    total = report["regions"][0]["total"]
    assert total["institutions"] == 3 and total["institutions_with_pages"] == 1 and total["exempt"] == 1
    assert total["coverage_pct"] == 50.0
    assert total["pages"] == 4 and total["pages_by_platform"]["vk"] == 3 and total["pages_by_platform"]["ok"] == 1
    assert total["gov_mark_pages"] == 1 and total["gov_mark_share"] == 25.0
    assert sum(total["compliance"].values()) == 4
    spheres = report["regions"][0]["spheres"]
    assert spheres["education"]["pages"] == 4 and spheres["youth"]["institutions"] == 1
    assert spheres["culture"]["institutions"] == 2 and spheres["culture"]["coverage_pct"] == 0.0

    archived = client.patch(f"/registry/institutions/{school['id']}", json={"status": "archived"}, headers=federal)
    assert archived.status_code == 200 and archived.json()["page_count"] == 0
    statuses = {
        p["status"]
        for p in client.get("/registry/pages", params={"institution_id": school["id"]}, headers=federal).json()["items"]
    }
    assert statuses == {"archived"}
    total = client.get("/registry/coverage", params={"region": "42"}, headers=federal).json()["regions"][0]["total"]
    assert total["institutions"] == 2 and total["pages"] == 0
    blocked = client.post(f"/registry/institutions/{school['id']}/pages", json=page_payload(), headers=federal)
    assert blocked.status_code == 409

    national = client.get("/registry/coverage", headers=federal).json()
    assert len(national["regions"]) == 89 and national["total"]["institutions"] >= 2


@pytest.mark.parametrize("role", ["regional_admin", "operator", "portal"])
def test_coverage_scope(client: TestClient, auth_header: Headers, role: str) -> None:
    headers = auth_header(role, "54")
    assert client.get("/registry/coverage", params={"region": "01"}, headers=headers).status_code == 404
    own = client.get("/registry/coverage", headers=headers).json()
    assert [r["region_code"] for r in own["regions"]] == ["54"] and own["total"] is None


def test_region_settings(client: TestClient, auth_header: Headers) -> None:
    admin = auth_header("regional_admin", "54")
    assert client.get("/registry/regions/54/settings", headers=admin).json()["posting_norms"] == {
        "flagship": 10,
        "active": 3,
        "card": 1,
    }
    changed = client.put("/registry/regions/54/settings", json={"posting_norms": {"flagship": 7}}, headers=admin)
    assert changed.json()["posting_norms"] == {"flagship": 7, "active": 3, "card": 1}
    assert client.get("/registry/regions/54/settings", headers=admin).json()["posting_norms"]["flagship"] == 7
    assert client.put("/registry/regions/01/settings", json={}, headers=admin).status_code == 403
    assert (
        client.put("/registry/regions/54/settings", json={}, headers=auth_header("operator", "54")).status_code == 403
    )
