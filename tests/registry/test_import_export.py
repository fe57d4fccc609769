"""Spreadsheet import (Russian headers, merged header cells, blank lines, broken rows, dry run) and export."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook

from services.registry import spreadsheet
from tests.registry.helpers import make_inn, make_ogrn

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def regional_workbook() -> bytes:
    """A sheet as a region keeps it: a title row, a two-level merged header, blank lines, numbers as numbers."""
    workbook = Workbook()
    sheet = workbook.active
    sheet["A1"] = "Реестр госпабликов Новосибирской области на 01.03.2026"
    sheet.merge_cells("A1:L1")
    top = ["Наименование", "Краткое наименование", "ИНН", "ОГРН", "Регион", "ОКТМО", "Тип учреждения", "Сфера"]
    for column, title in enumerate(top, start=1):
        sheet.cell(3, column, title)
        sheet.merge_cells(start_row=3, start_column=column, end_row=4, end_column=column)
    sheet.cell(3, 9, "Страница ВК")
    sheet.merge_cells(start_row=3, start_column=9, end_row=3, end_column=12)
    for column, title in enumerate(["Ссылка", "Категория", "Госметка", "Виджеты ПОС"], start=9):
        sheet.cell(4, column, title)
    rows: list[list[Any]] = [
        [
            "Администрация Искитимского района",
            "Администрация",
            int(make_inn(11)),
            int(make_ogrn(11)),
            54,
            50615000,
            "Администрация",
            "Управление",
            "https://vk.com/club1011",
            "Флагманский",
            "да",
            2,
        ],
        [],
        [
            "МБОУ СОШ № 1 г. Искитима",
            "СОШ № 1",
            make_inn(12),
            make_ogrn(12),
            "54",
            "50615101",
            "Школа",
            "Образование; Молодёжная политика",
            "vk.com/club1012",
            "активный",
            "нет",
            1,
        ],
        [
            "МБОУ СОШ № 1 г. Искитима",
            None,
            make_inn(12),
            make_ogrn(12),
            None,
            None,
            None,
            None,
            "https://ok.ru/group/1012",
            "визитка",
            None,
            None,
        ],
        [None, None, None, None],
        [
            "Больница без страницы",
            None,
            make_inn(13),
            make_ogrn(13),
            54,
            None,
            "Больница",
            "Здравоохранение",
            None,
            None,
            None,
            None,
        ],
        [
            "Сломанный ИНН",
            None,
            "5400000000",
            make_ogrn(14),
            54,
            None,
            "Школа",
            "Образование",
            "vk.com/club1014",
            "активный",
            None,
            None,
        ],
        ["Не тот регион", None, make_inn(15), make_ogrn(15), 1, None, "Школа", "Образование", None, None, None, None],
        [
            "Неизвестная сфера",
            None,
            make_inn(16),
            make_ogrn(16),
            54,
            None,
            "Школа",
            "Космос",
            "vk.com/club1016",
            "Главный",
            "может",
            5,
        ],
        [
            "Повтор ссылки",
            None,
            make_inn(17),
            make_ogrn(17),
            54,
            None,
            "Школа",
            "Образование",
            "https://vk.com/club1011",
            None,
            None,
            None,
        ],
    ]
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            sheet.cell(5 + offset, column, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(
    client: TestClient,
    headers: dict[str, str],
    content: bytes,
    *,
    region: str = "54",
    name: str = "r.xlsx",
    **params: Any,
) -> Any:
    response = client.post(
        "/registry/import", params={"region": region, **params}, files={"file": (name, content, XLSX)}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_regional_sheet(client: TestClient, admin54: dict[str, str]) -> None:
    content = regional_workbook()
    dry = upload(client, admin54, content, dry_run="true")
    assert dry["dry_run"] is True and (dry["created"], dry["updated"], dry["unchanged"]) == (4, 0, 0)
    assert client.get("/registry/institutions", headers=admin54).json()["items"] == []

    report = upload(client, admin54, content)
    assert report["rows"] == 8 and report["created"] == 4 and report["skipped"] == 4
    problems = {(e["row"], e["column"]): e["message"] for e in report["errors"]}
    assert problems[(11, "ИНН")] == "checksum mismatch"
    assert problems[(12, "Регион")] == "the row is for region 01, not 54"
    assert problems[(13, "Сфера")] == "unknown sphere 'Космос'"
    assert problems[(13, "Категория")] == "unknown value 'Главный'"
    assert problems[(13, "Госметка")].startswith("expected да or нет")
    assert problems[(13, "Виджеты ПОС")] == "must be between 0 and 2"
    assert problems[(14, "Ссылка")] == "the same page as row 5"
    assert dry["errors"] == report["errors"]

    institutions = client.get("/registry/institutions", params={"limit": 100}, headers=admin54).json()["items"]
    by_name = {i["name"]: i for i in institutions}
    assert set(by_name) == {"Администрация Искитимского района", "МБОУ СОШ № 1 г. Искитима", "Больница без страницы"}
    school = by_name["МБОУ СОШ № 1 г. Искитима"]
    assert school["spheres"] == ["education", "youth"] and school["oktmo"] == "50615101" and school["page_count"] == 2
    assert by_name["Администрация Искитимского района"]["kind"] == "administration"
    pages = client.get("/registry/pages", params={"institution_id": school["id"]}, headers=admin54).json()["items"]
    assert sorted((p["platform"], p["category"]) for p in pages) == [("ok", "card"), ("vk", "active")]
    flagship = client.get("/registry/pages", params={"category": "flagship"}, headers=admin54).json()["items"][0]
    assert flagship["group_id"] == 1011 and flagship["checklist"]["gov_mark"]["value"] is True
    assert flagship["checklist"]["pos_widgets"]["value"] == 2

    again = upload(client, admin54, content)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 4)


def test_english_csv_update_and_conflicts(
    client: TestClient,
    admin54: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    auth_header: Callable[..., dict[str, str]],
) -> None:
    foreign = create_institution("01")
    csv_text = "\n".join(
        [
            "name,inn,ogrn,kind,spheres,page_url,category,gov_mark",
            f"School 1,{make_inn(21)},{make_ogrn(21)},school,education,https://vk.com/club2021,active,yes",
            "",
            f"Adygea school,{foreign['inn']},{foreign['ogrn']},school,education,,,",
        ]
    )
    report = upload(client, admin54, csv_text.encode(), name="r.csv")
    assert report["created"] == 1 and report["errors"] == [
        {"row": 4, "column": "ogrn", "message": "registered in region 01"}
    ]
    changed = csv_text.splitlines()[1].replace("active,yes", "flagship,no")
    update = upload(client, admin54, ("\n".join([csv_text.splitlines()[0], changed])).encode(), name="r.csv")
    assert (update["created"], update["updated"], update["unchanged"]) == (0, 1, 0)
    page = client.get("/registry/pages", headers=admin54).json()["items"][0]
    assert page["category"] == "flagship" and page["checklist"]["gov_mark"]["value"] is False and page["revision"] == 2

    missing = upload(client, admin54, "Наименование;ИНН\nШкола;5400000011\n".encode(), name="r.csv")
    assert missing["errors"][0]["column"] == "ОГРН" and missing["errors"][0]["message"] == "required column is missing"
    garbage = upload(client, admin54, b"hello world\n1,2,3\n", name="r.csv")
    assert garbage["errors"][0]["message"].startswith("no header row found")
    assert (
        client.post(
            "/registry/import", params={"region": "01"}, files={"file": ("r.csv", b"x", "text/csv")}, headers=admin54
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/registry/import",
            params={"region": "54"},
            files={"file": ("r.csv", b"x", "text/csv")},
            headers=auth_header("operator", "54"),
        ).status_code
        == 403
    )


def test_export_then_import_is_a_no_op(
    client: TestClient,
    federal: dict[str, str],
    admin54: dict[str, str],
    create_institution: Callable[..., dict[str, Any]],
    create_page: Callable[..., dict[str, Any]],
) -> None:
    parent = create_institution(kind="administration", spheres=["administration"], name="Администрация")
    child = create_institution(
        parent_id=parent["id"],
        kpp="5401AB001",
        oktmo="50701000001",
        municipality="г. Бердск",
        time_zone="Asia/Omsk",
        website="https://s.ru/a",
        short_name="Школа",
        spheres=["education", "culture", "sport"],
    )
    create_institution(no_page_reason="Распоряжение № 1", kind="other", spheres=["other"], level="regional")
    archived = create_institution()
    client.patch(f"/registry/institutions/{archived['id']}", json={"status": "archived"}, headers=federal)
    page = create_page(child["id"], subscribers=1500, quality_marks=[2024, 2025], screen_name="school")
    client.patch(
        f"/registry/pages/{page['id']}",
        json={"checklist": {"gov_mark": True, "pos_widgets": 1, "comments_open": False}},
        headers=federal,
    )
    create_page(child["id"], platform="ok", url="https://ok.ru/group/777", group_id=None, category="card")
    create_page(parent["id"], category="flagship")
    gone = create_page(parent["id"])
    client.patch(f"/registry/pages/{gone['id']}", json={"status": "archived"}, headers=federal)

    for fmt, media in (("xlsx", XLSX), ("csv", "text/csv")):
        exported = client.get("/registry/export", params={"region": "54", "format": fmt}, headers=admin54)
        assert exported.status_code == 200 and exported.headers["content-type"].startswith(media)
        report = upload(client, admin54, exported.content, name=f"e.{fmt}")
        assert report["errors"] == [] and (report["created"], report["updated"]) == (0, 0), report
        assert report["unchanged"] == report["rows"] == 6
    workbook = load_workbook(
        io.BytesIO(client.get("/registry/export", params={"region": "54"}, headers=admin54).content)
    )
    header = [cell.value for cell in next(workbook.active.iter_rows(max_row=1))]
    assert header == [column.header for column in spreadsheet.COLUMNS]
    assert client.get("/registry/export", params={"region": "01"}, headers=admin54).status_code == 404


def test_time_zone_column(client: TestClient, admin54: dict[str, str]) -> None:
    header = "Наименование;ИНН;ОГРН;Тип учреждения;Сфера;Часовой пояс"
    rows = [
        f"Школа в Омске;{make_inn(31)};{make_ogrn(31)};Школа;Образование;asia/omsk",
        f"Школа без пояса;{make_inn(32)};{make_ogrn(32)};Школа;Образование;",
        f"Школа в Берлине;{make_inn(33)};{make_ogrn(33)};Школа;Образование;Europe/Berlin",
        f"Школа на Марсе;{make_inn(34)};{make_ogrn(34)};Школа;Образование;Mars/Olympus",
    ]
    report = upload(client, admin54, "\n".join([header, *rows]).encode(), name="r.csv")
    assert report["created"] == 2 and report["skipped"] == 2
    problems = {(e["row"], e["column"]): e["message"] for e in report["errors"]}
    assert problems[(4, "Часовой пояс")].startswith("not one of Russia's time zones")
    assert problems[(5, "Часовой пояс")].startswith("unknown time zone")
    items = client.get("/registry/institutions", params={"limit": 100}, headers=admin54).json()["items"]
    zones = {i["name"]: i["time_zone"] for i in items}
    assert zones == {"Школа в Омске": "Asia/Omsk", "Школа без пояса": None}

    exported = client.get("/registry/export", params={"region": "54", "format": "csv"}, headers=admin54).content
    lines = exported.decode("utf-8-sig").splitlines()
    position = lines[0].split(";").index("Часовой пояс")
    assert sorted(line.split(";")[position] for line in lines[1:]) == ["", "Asia/Omsk"]
    moved = exported.replace(b"Asia/Omsk", b"Asia/Tomsk")
    update = upload(client, admin54, moved, name="e.csv")
    assert (update["created"], update["updated"], update["unchanged"]) == (0, 1, 1)
    assert update["changes"][0]["fields"] == ["Часовой пояс: Asia/Omsk → Asia/Tomsk"]
    items = client.get("/registry/institutions", params={"limit": 100}, headers=admin54).json()["items"]
    assert {i["name"]: i["time_zone"] for i in items}["Школа в Омске"] == "Asia/Tomsk"


def test_import_publishes_counters_and_events(client: TestClient, admin54: dict[str, str]) -> None:
    from shared.config import get_settings
    from tests.registry.helpers import drain

    upload(client, admin54, regional_workbook())
    coverage = client.get("/registry/coverage", headers=admin54).json()["regions"][0]["total"]
    assert coverage["institutions"] == 3 and coverage["institutions_with_pages"] == 2 and coverage["pages"] == 3
    for queue_url in get_settings().registry_event_queue_urls:
        types = sorted(message["body"]["type"] for message in drain(queue_url))
        assert types == ["institution.upserted"] * 3 + ["page.upserted"] * 3
