"""Hostile input and access leaks: VK ids and links out of range, confirmation codes, stored oddities, 409/403 texts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from services.registry import bootstrap
from services.registry.records import Unit, institution_record, new_id, now_iso, page_record
from shared.vk_ids import MAX_VK_ID
from tests.registry.helpers import institution_payload, make_inn, make_ogrn, page_payload

Headers = Callable[..., dict[str, str]]
Factory = Callable[..., dict[str, Any]]
CSV = "text/csv"


def import_csv(client: TestClient, headers: dict[str, str], lines: list[str], **params: Any) -> Any:
    content = "\n".join(lines).encode()
    return client.post(
        "/registry/import",
        params={"region": "54", **params},
        files={"file": ("r.csv", content, CSV)},
        headers=headers,
    )


BAD_LINKS = [
    "https://vk.com/club0",
    f"https://vk.com/club{MAX_VK_ID + 1}",
    "vk.com/public1000000000000",
    f"https://vk.com/event{'9' * 39}",
    "https://vk.com/club١٢٣",
    "https://vk.com/club12 3",
    "https://vk.com/club12\n3",
    f"https://vk.com/{'a' * 500}",
]
BAD_GROUP_IDS: list[Any] = [0, -5, MAX_VK_ID + 1, 10**12, 10**39, "12a", True]


def test_vk_ids_out_of_range_are_422_naming_the_field_for_every_writer(
    client: TestClient, federal: dict[str, str], auth_header: Headers, create_institution: Factory, create_page: Factory
) -> None:
    institution = create_institution()
    page = create_page(institution["id"])
    own_admin = auth_header("institution_admin", "54", institution["id"])
    create_url = f"/registry/institutions/{institution['id']}/pages"
    for headers in (federal, own_admin):
        for url in BAD_LINKS:
            created = client.post(create_url, json={"url": url}, headers=headers)
            assert created.status_code == 422 and created.json()["detail"][0]["field"] == "url", (url, created.text)
            changed = client.patch(f"/registry/pages/{page['id']}", json={"url": url}, headers=headers)
            assert changed.status_code == 422 and changed.json()["detail"][0]["field"] == "url", (url, changed.text)
        for group_id in BAD_GROUP_IDS:
            body = {"url": "https://vk.com/school_hostile", "group_id": group_id}
            created = client.post(create_url, json=body, headers=headers)
            assert created.status_code == 422 and created.json()["detail"][0]["field"] == "group_id", group_id
            changed = client.patch(f"/registry/pages/{page['id']}", json={"group_id": group_id}, headers=headers)
            assert changed.status_code == 422 and changed.json()["detail"][0]["field"] == "group_id", group_id
        assert client.get("/registry/pages", headers=headers).json()["items"] == [page]


def test_import_rows_with_ids_out_of_range_are_row_errors(client: TestClient, admin54: dict[str, str]) -> None:
    rows = [(f"https://vk.com/club{n}", "") for n in (0, "9" * 39, 10**12)] + [("https://vk.com/school_x", "9" * 39)]
    lines = ["name;inn;ogrn;kind;spheres;url;group_id"]
    for serial, (url, group_id) in enumerate([*rows, ("https://vk.com/club7001", "7001")], start=7001):
        lines.append(f"School {serial};{make_inn(serial)};{make_ogrn(serial)};school;education;{url};{group_id}")

    response = import_csv(client, admin54, lines)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 1 and report["skipped"] == 4
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(2, "url"), (3, "url"), (4, "url"), (5, "group_id")]
    assert all(str(MAX_VK_ID) in e["message"] for e in report["errors"])
    assert [p["group_id"] for p in client.get("/registry/pages", headers=admin54).json()["items"]] == [7001]


def test_a_stored_odd_record_never_breaks_a_read_or_a_list(
    client: TestClient, federal: dict[str, str], admin54: dict[str, str]
) -> None:
    now = now_iso()
    institution = institution_record(
        {
            **institution_payload("54"),
            "name": "Я" * 600,
            "inn": "0000000000",
            "kpp": "bad",
            "id": new_id(),
            "status": "active",
            "page_stats": {},
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
    )
    page = page_record(
        {
            "id": new_id(),
            "institution_id": institution["id"],
            "region_code": "54",
            "platform": "vk",
            "group_id": 10**12,
            "screen_name": "s" * 300,
            "url": "https://vk.com/club1000000000000 odd",
            "url_key": "vk.com/club1000000000000 odd",
            "category": "active",
            "status": "active",
            "subscribers": -5,
            "quality_marks": [1999],
            "checklist": {},
            "compliance_pct": 0,
            "gov_mark": False,
            "has_access_token": False,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
        }
    )
    unit = Unit(institution_before=None, institution_after=institution, pages=[(None, page)])
    assert bootstrap.repository().commit([unit]).failed == []

    for headers in (federal, admin54):
        pages = client.get("/registry/pages", params={"region": "54"}, headers=headers)
        assert pages.status_code == 200, pages.text
        assert [p["group_id"] for p in pages.json()["items"]] == [10**12]
        institutions = client.get("/registry/institutions", params={"region": "54"}, headers=headers)
        assert institutions.status_code == 200 and institutions.json()["items"][0]["inn"] == "0000000000"
        assert client.get(f"/registry/pages/{page['id']}", headers=headers).json()["subscribers"] == -5
        assert (
            client.get("/registry/export", params={"region": "54", "format": "csv"}, headers=headers).status_code == 200
        )


NOT_CODES = ["remove", "REMOVE", "version5", "version 5", "Version", "1a2b 3c4d", "1a2b3c4d\n", "\t1a2b3c4d"]
NOT_CODES += ["<b>1a2b</b>", "１２３４５６", "abc", "a" * 33, "1a2b-3c4d", ""]


def test_callback_takes_only_confirmation_codes(
    client: TestClient, federal: dict[str, str], create_institution: Factory, create_page: Factory
) -> None:
    page = create_page(create_institution()["id"])
    callback = f"/registry/pages/{page['id']}/callback"
    for code in NOT_CODES:
        response = client.put(callback, json={"confirmation_code": code, "secret": "s" * 16}, headers=federal)
        assert response.status_code == 422, code
        assert response.json()["detail"][0]["field"] == "confirmation_code" and "remove" not in response.text.lower()
    for code in ["1a2b3c4d", "zz99", "D8V2VE07", "a" * 32]:
        response = client.put(callback, json={"confirmation_code": code, "secret": "s" * 16}, headers=federal)
        assert response.status_code == 200 and response.json()["callback_configured"] is True, code


def test_conflicts_name_the_holder_only_to_who_may_read_it(
    client: TestClient,
    federal: dict[str, str],
    admin54: dict[str, str],
    auth_header: Headers,
    create_institution: Factory,
    create_page: Factory,
) -> None:
    adygea = create_institution("01")
    adygea_page = create_page(adygea["id"], group_id=201099001)
    home, neighbour = create_institution("54"), create_institution("54")
    neighbour_page = create_page(neighbour["id"], group_id=201099002)
    hidden = [adygea["id"], adygea_page["id"]]

    same_ogrn = client.post("/registry/institutions", json=institution_payload(ogrn=adygea["ogrn"]), headers=admin54)
    assert same_ogrn.status_code == 409
    assert same_ogrn.json()["message"] == "ogrn: already registered (an institution outside your scope)"
    as_federal = client.post("/registry/institutions", json=institution_payload(ogrn=adygea["ogrn"]), headers=federal)
    assert as_federal.status_code == 409 and adygea["id"] in as_federal.json()["message"]

    pages_url = f"/registry/institutions/{home['id']}/pages"
    same_group = client.post(pages_url, json=page_payload(201099001, url="vk.com/other_school"), headers=admin54)
    assert same_group.status_code == 409 and same_group.json()["detail"][0]["field"] == "group_id"
    same_link = client.post(pages_url, json={"url": adygea_page["url"], "group_id": 201099003}, headers=admin54)
    assert same_link.status_code == 409 and same_link.json()["detail"][0]["field"] == "url"
    lines = [
        "name;inn;ogrn;kind;spheres;url;group_id",
        f"School;{home['inn']};{home['ogrn']};school;education;{adygea_page['url']};",
        f"School;{home['inn']};{home['ogrn']};school;education;vk.com/another_school;201099001",
    ]
    imported = import_csv(client, admin54, lines).json()
    assert [e["column"] for e in imported["errors"]] == ["url", "group_id"]
    for text in (same_group.text, same_link.text, str(imported["errors"])):
        assert "outside your scope" in text and not any(hidden_id in text for hidden_id in hidden)

    own_admin = auth_header("institution_admin", "54", home["id"])
    taken = client.post(pages_url, json=page_payload(201099002, url="vk.com/third_school"), headers=own_admin)
    assert taken.status_code == 409 and neighbour_page["id"] not in taken.text
    readable = client.post(pages_url, json=page_payload(201099002, url="vk.com/third_school"), headers=admin54)
    assert readable.status_code == 409 and neighbour_page["id"] in readable.text


def test_a_founder_is_of_the_same_region(
    client: TestClient, federal: dict[str, str], admin54: dict[str, str], create_institution: Factory
) -> None:
    adygea, local = create_institution("01"), create_institution("54")
    created = client.post(
        "/registry/institutions", json=institution_payload("54", parent_id=adygea["id"]), headers=federal
    )
    assert created.status_code == 422 and created.json()["detail"][0]["field"] == "parent_id"
    changed = client.patch(f"/registry/institutions/{local['id']}", json={"parent_id": adygea["id"]}, headers=federal)
    assert changed.status_code == 422 and changed.json()["detail"][0]["field"] == "parent_id"
    assert adygea["id"] not in changed.json()["message"]
    lines = [
        "name;inn;ogrn;kind;spheres;parent_ogrn",
        f"Child;{make_inn(7101)};{make_ogrn(7101)};school;education;{adygea['ogrn']}",
    ]
    report = import_csv(client, admin54, lines).json()
    assert report["errors"] == [
        {"row": 2, "column": "parent_ogrn", "message": "no other institution with this OGRN in region 54 or the file"}
    ]


def test_region_wide_reads_follow_the_one_rule(
    client: TestClient, auth_header: Headers, create_institution: Factory
) -> None:
    school = create_institution("54")
    own_admin = auth_header("institution_admin", "54", school["id"])
    for path, params in (("/registry/coverage", {}), ("/registry/export", {"region": "54"})):
        refused = client.get(path, params=params, headers=own_admin)
        assert refused.status_code == 403 and "regional role" in refused.json()["message"]
        assert client.get(path, params={"region": "01"}, headers=own_admin).status_code == 404
        for role in ("regional_admin", "operator", "portal"):
            assert client.get(path, params={"region": "01"}, headers=auth_header(role, "54")).status_code == 404
            assert client.get(path, params={"region": "54"}, headers=auth_header(role, "54")).status_code == 200


def test_forbidden_writes_say_what_was_refused_and_why(
    client: TestClient, auth_header: Headers, create_institution: Factory, create_page: Factory
) -> None:
    adygea, home, other = create_institution("01"), create_institution("54"), create_institution("54")
    page, other_page = create_page(home["id"]), create_page(other["id"])
    own_admin = auth_header("institution_admin", "54", home["id"])
    cases = [
        ("patch", f"/registry/pages/{page['id']}", auth_header("operator", "54"), {"category": "card"}),
        ("patch", f"/registry/pages/{other_page['id']}", own_admin, {"category": "card"}),
        ("patch", f"/registry/institutions/{home['id']}", own_admin, {"short_name": "x"}),
        ("patch", f"/registry/institutions/{adygea['id']}", auth_header("regional_admin", "54"), {"short_name": "x"}),
        ("put", "/registry/regions/54/settings", auth_header("portal", "54"), {}),
    ]
    messages = []
    for method, path, headers, body in cases:
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == 403, response.text
        messages.append(response.json()["message"])
    refused = client.post(
        "/registry/import", params={"region": "54"}, files={"file": ("r.csv", b"x", CSV)}, headers=own_admin
    )
    messages.append(refused.json()["message"])
    assert messages == [
        "may not change pages: an operator's access is read-only",
        "may not change pages: outside your institution",
        "may not change institutions: an institution admin changes its institution's pages only",
        "may not change institutions: outside your region 54",
        "may not change region settings: portal clients are read-only",
        "may not import a registry: an institution admin changes its institution's pages only",
    ]
