"""Import limits and reports: a file past the upload, unpacked, row or column limits is answered 413 naming ``file``
with bounded work (rows read) and memory; a report lists the first problems and changes, with totals of all."""

from __future__ import annotations

import io
import re
import resource
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from services.registry import spreadsheet
from services.registry.models import REPORT_LIMIT
from tests.registry.helpers import make_inn, make_ogrn

XLSX = spreadsheet.XLSX_MEDIA_TYPE
HEADER = ["Наименование", "ИНН", "ОГРН", "Тип учреждения", "Сфера"]
MAX_ANSWER_BYTES = 200_000
MAX_RSS_GROWTH_KB = 200 * 1024
Factory = Callable[..., dict[str, Any]]


def write_only(rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook written as a stream (openpyxl declares no dimension for it)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Реестр")
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def declaring(cell: str) -> bytes:
    """A header row and one value at ``cell``: the workbook declares its dimension up to that cell."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet[cell] = "x"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(lines: Iterable[str]) -> bytes:
    return "\n".join(lines).encode()


def post(client: TestClient, headers: dict[str, str], content: bytes, *, name: str = "r.xlsx", **params: Any) -> Any:
    return client.post(
        "/registry/import",
        params={"region": "54", **params},
        files={"file": (name, content, XLSX if name.endswith(".xlsx") else "text/csv")},
        headers=headers,
    )


def assert_too_large(response: Any) -> None:
    assert response.status_code == 413, response.text[:500]
    assert response.json()["detail"][0]["field"] == "file" and len(response.content) < 2_000


def max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.fixture
def rows_read(monkeypatch: pytest.MonkeyPatch) -> list[Sequence[Any]]:
    """Every row the reader takes from a sheet or CSV file."""
    taken: list[Sequence[Any]] = []
    bounded = spreadsheet._bounded

    def counting(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
        def each() -> Iterator[Sequence[Any]]:
            for row in rows:
                taken.append(row)
                yield row

        return bounded(each())

    monkeypatch.setattr(spreadsheet, "_bounded", counting)
    return taken


def test_a_declared_size_past_the_limits_is_refused_before_any_row_is_read(
    client: TestClient, admin54: dict[str, str], rows_read: list[Sequence[Any]]
) -> None:
    for cell in ("Z200000", "XFD1048576", f"{get_column_letter(spreadsheet.MAX_SHEET_COLUMNS + 1)}1"):
        response = post(client, admin54, declaring(cell))
        assert_too_large(response)
        assert "delete what lies below or right of the data" in response.json()["message"]
    assert rows_read == []


def test_an_undeclared_far_cell_stops_the_read_at_the_row_limit(
    client: TestClient, admin54: dict[str, str], rows_read: list[Sequence[Any]]
) -> None:
    far_row = write_only([HEADER, *([[]] * spreadsheet.MAX_SHEET_ROWS), [None] * 25 + ["x"]])
    before = max_rss_kb()
    assert_too_large(post(client, admin54, far_row))
    assert max_rss_kb() - before < MAX_RSS_GROWTH_KB
    assert len(rows_read) == spreadsheet.MAX_SHEET_ROWS + 1

    rows_read.clear()
    far_column = write_only([HEADER, [None] * 16383 + ["x"]])
    response = post(client, admin54, far_column)
    assert_too_large(response)
    assert response.json()["message"] == f"file: row 2 has more than {spreadsheet.MAX_SHEET_COLUMNS} columns"
    assert len(rows_read) == 2


def test_uploads_past_the_size_limits_are_413(client: TestClient, admin54: dict[str, str]) -> None:
    assert_too_large(post(client, admin54, b"x" * (spreadsheet.MAX_IMPORT_BYTES + 1), name="big.csv"))

    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(write_only([HEADER]))) as source, zipfile.ZipFile(buffer, "w") as bomb:
        for member in source.infolist():
            bomb.writestr(member, source.read(member))
        bomb.writestr("xl/sharedStrings.xml", b" " * (spreadsheet.MAX_LOADED_BYTES + 1), zipfile.ZIP_DEFLATED)
    assert len(buffer.getvalue()) < 1_000_000
    assert_too_large(post(client, admin54, buffer.getvalue()))

    wide = ";".join(["Наименование", "ИНН", "ОГРН", *["x"] * spreadsheet.MAX_SHEET_COLUMNS])
    assert_too_large(post(client, admin54, csv_file([wide]), name="wide.csv"))


@pytest.mark.parametrize("name", ["rows.csv", "rows.xlsx"])
def test_rows_past_the_limit_are_413_after_reading_no_more_than_the_limit(
    client: TestClient,
    admin54: dict[str, str],
    rows_read: list[Sequence[Any]],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_SHEET_ROWS", 300)
    rows = [HEADER] + [[f"Школа {n}", "5400000000", "1540000000000", "Школа", "Образование"] for n in range(1000)]
    content = csv_file(";".join(row) for row in rows) if name.endswith(".csv") else write_only(rows)
    response = post(client, admin54, content, name=name)
    assert_too_large(response)
    assert response.json()["message"] == "file: more than 300 rows: split the file"
    assert len(rows_read) == 301


def test_a_declared_size_smaller_than_the_data_hides_no_rows() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for serial in range(1, 6):
        sheet.append([f"Школа {serial}", make_inn(serial), make_ogrn(serial), "Школа", "Образование"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    lying = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(lying, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', data)
            target.writestr(member, data)

    table = spreadsheet.read_table(lying.getvalue())

    assert [number for number, _ in table.rows] == [2, 3, 4, 5, 6] and table.problems == []


def test_problems_past_the_limit_are_counted_not_listed(client: TestClient, admin54: dict[str, str]) -> None:
    lines = ["Наименование;ИНН;ОГРН;Тип учреждения;Сфера"]
    lines += [f"Школа {n};5400000000;1540000000001;Школа;{'Космос' * 1000}" for n in range(1000)]
    response = post(client, admin54, csv_file(lines), name="broken.csv")

    assert response.status_code == 200 and len(response.content) < MAX_ANSWER_BYTES
    report = response.json()
    assert (report["rows"], report["skipped"], report["errors_total"]) == (1000, 1000, 3000)
    assert len(report["errors"]) == REPORT_LIMIT and report["errors"][0]["row"] == 2
    assert max(len(error["message"]) for error in report["errors"]) < 100
    assert report["changes"] == [] and report["changes_total"] == 0

    unreadable = post(client, admin54, csv_file([*lines[:2], "x;" + "y" * 200_000]), name="long.csv").json()
    assert unreadable["errors"][0]["message"].startswith("not a readable CSV file")


def test_dry_run_and_report_list_what_changes(
    client: TestClient, admin54: dict[str, str], create_institution: Factory, create_page: Factory
) -> None:
    school = create_institution(name="Школа № 1")
    page = create_page(school["id"])
    renamed = f"Школа № 2;{school['inn']};{school['ogrn']};Школа;Образование"
    lines = [
        "Наименование;ИНН;ОГРН;Тип учреждения;Сфера;Ссылка;Категория",
        f"{renamed};;",
        f"{renamed};{page['url']};флагманский",
        f"Библиотека;{make_inn(7301)};{make_ogrn(7301)};Библиотека;Культура;https://vk.com/club7301;",
    ]
    expected = [
        {"row": 2, "target": "institution", "action": "updated", "fields": ["Наименование: Школа № 1 → Школа № 2"]},
        {"row": 3, "target": "page", "action": "updated", "fields": ["Категория: активный → флагманский"]},
        {"row": 4, "target": "institution", "action": "created", "fields": []},
        {"row": 4, "target": "page", "action": "created", "fields": []},
    ]

    dry = post(client, admin54, csv_file(lines), name="r.csv", dry_run="true").json()
    assert (dry["changes"], dry["changes_total"]) == (expected, 4)
    assert client.get(f"/registry/institutions/{school['id']}", headers=admin54).json()["name"] == "Школа № 1"

    report = post(client, admin54, csv_file(lines), name="r.csv").json()
    assert (report["changes"], report["changes_total"], report["errors"]) == (expected, 4, [])
    assert client.get(f"/registry/institutions/{school['id']}", headers=admin54).json()["name"] == "Школа № 2"
    again = post(client, admin54, csv_file(lines), name="r.csv").json()
    assert (again["changes"], again["changes_total"], again["unchanged"]) == ([], 0, 3)


def test_the_change_list_is_capped(client: TestClient, admin54: dict[str, str]) -> None:
    lines = ["Наименование;ИНН;ОГРН;Тип учреждения;Сфера"]
    lines += [f"Школа {n};{make_inn(7400 + n)};{make_ogrn(7400 + n)};Школа;Образование" for n in range(150)]
    report = post(client, admin54, csv_file(lines), name="r.csv", dry_run="true").json()
    assert report["created"] == 150 and report["changes_total"] == 150
    assert [change["row"] for change in report["changes"]] == list(range(2, 2 + REPORT_LIMIT))
