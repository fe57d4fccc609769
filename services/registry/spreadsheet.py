"""Reading and writing registry spreadsheets (XLSX and CSV) with the columns regions actually use.

One row is an institution and at most one of its pages; an institution with several pages takes several rows with
the same OGRN, one without pages a row with the page columns blank. Headers are matched case-insensitively, ``ё`` as
``е``, punctuation ignored, in Russian or English (``COLUMNS``: the first name is what export writes). The header row
may be anywhere in the first 30 rows and may span two rows with merged cells (e.g. «Страница ВК» over «Ссылка» and
«Категория»); blank rows are skipped. A blank cell keeps the stored value on import.

openpyxl is imported lazily: the API's cold start does not pay for it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

HEADER_SCAN_ROWS = 30
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    """A spreadsheet column: the record field, the header export writes, and other accepted headers."""

    field: str
    header: str
    aliases: tuple[str, ...] = ()
    export_only: bool = False


CHECKLIST_COLUMNS = (
    Column("name_matches", "Название соответствует", ("name_matches", "название соответствует наименованию")),
    Column("description", "Описание", ("description", "описание сообщества")),
    Column("phone", "Телефон", ("phone", "контактный телефон")),
    Column("address", "Адрес", ("address", "адрес с точкой на карте")),
    Column("schedule", "График работы", ("schedule", "режим работы")),
    Column("email", "E-mail", ("email", "электронная почта")),
    Column("website_link", "Ссылка на сайт", ("website_link",)),
    Column("avatar", "Аватар", ("avatar",)),
    Column("cover", "Обложка", ("cover",)),
    Column("gov_mark", "Госметка", ("gov_mark", "госорганизация", "отметка госорганизация", "госотметка")),
    Column("pos_widgets", "Виджеты ПОС", ("pos_widgets", "виджет пос", "виджеты")),
    Column(
        "connected_to_gospubliki",
        "Подключена к Госпабликам",
        ("connected_to_gospubliki", "подключение к госпабликам", "подключена к системе госпаблики"),
    ),
    Column("comments_open", "Комментарии открыты", ("comments_open", "открытые комментарии")),
)

COLUMNS: tuple[Column, ...] = (
    Column(
        "name", "Наименование", ("name", "наименование учреждения", "полное наименование", "наименование организации")
    ),
    Column("short_name", "Краткое наименование", ("short_name", "сокращенное наименование", "краткое название")),
    Column("inn", "ИНН", ("inn",)),
    Column("ogrn", "ОГРН", ("ogrn",)),
    Column("kpp", "КПП", ("kpp",)),
    Column("region", "Регион", ("region", "region_code", "субъект рф", "код региона")),
    Column("oktmo", "ОКТМО", ("oktmo",)),
    Column("municipality", "Муниципальное образование", ("municipality", "муниципалитет", "мо")),
    Column("level", "Уровень", ("level", "уровень учреждения", "уровень власти")),
    Column("kind", "Тип учреждения", ("kind", "type", "тип", "вид учреждения")),
    Column("spheres", "Сфера", ("spheres", "sphere", "сферы", "сфера деятельности", "отрасль")),
    Column("parent_ogrn", "ОГРН учредителя", ("parent_ogrn", "учредитель огрн")),
    Column("website", "Сайт", ("website", "официальный сайт", "сайт учреждения")),
    Column("status", "Статус", ("status", "статус учреждения")),
    Column(
        "no_page_reason",
        "Не ведётся на основании",
        ("no_page_reason", "причина отсутствия страницы", "основание отсутствия страницы"),
    ),
    Column("platform", "Платформа", ("platform", "соцсеть", "социальная сеть")),
    Column(
        "url",
        "Ссылка на страницу ВК",
        (
            "page_url",
            "url",
            "ссылка на страницу",
            "ссылка на страницу вконтакте",
            "ссылка на госпаблик",
            "ссылка",
            "страница вк ссылка",
            "страница ссылка",
            "адрес страницы",
        ),
    ),
    Column("group_id", "ID сообщества", ("group_id", "id группы", "id сообщества вк", "идентификатор сообщества")),
    Column("screen_name", "Короткое имя", ("screen_name", "короткий адрес")),
    Column("category", "Категория", ("category", "категория страницы", "страница вк категория", "страница категория")),
    Column("subscribers", "Подписчики", ("subscribers", "число подписчиков", "количество подписчиков")),
    *CHECKLIST_COLUMNS,
    Column("quality_marks", "Знак качества (годы)", ("quality_marks", "знак качества")),
    Column("page_status", "Статус страницы", ("page_status",)),
    Column("compliance_pct", "Соответствие, %", ("compliance_pct", "соответствие"), export_only=True),
)

# Values as written in Russian sheets (first one is what export writes) -> codes.
LEVELS: dict[str, tuple[str, ...]] = {
    "federal": ("федеральный",),
    "regional": ("региональный",),
    "municipal": ("муниципальный",),
}
KINDS: dict[str, tuple[str, ...]] = {
    "administration": ("администрация", "орган власти", "омсу"),
    "ministry": ("министерство", "департамент", "комитет", "управление"),
    "school": ("школа", "общеобразовательная организация", "гимназия", "лицей"),
    "kindergarten": ("детский сад", "доу"),
    "hospital": ("больница", "поликлиника", "медицинская организация"),
    "library": ("библиотека",),
    "culture": ("учреждение культуры", "дом культуры", "музей", "театр", "кдц"),
    "sport": ("спорт", "спортивная школа", "спортивное учреждение"),
    "social": ("социальное учреждение", "соцзащита", "социальная защита"),
    "other": ("другое", "иное"),
}
SPHERES: dict[str, tuple[str, ...]] = {
    "education": ("образование",),
    "healthcare": ("здравоохранение",),
    "culture": ("культура",),
    "sport": ("спорт",),
    "social": ("социальная сфера", "социальная защита"),
    "youth": ("молодежная политика", "молодежь"),
    "administration": ("управление", "администрация"),
    "other": ("другое", "иное"),
}
CATEGORIES: dict[str, tuple[str, ...]] = {
    "flagship": ("флагманский", "флагманская"),
    "active": ("активный", "активная"),
    "card": ("визитка",),
}
PLATFORMS: dict[str, tuple[str, ...]] = {
    "vk": ("ВКонтакте", "вк"),
    "ok": ("Одноклассники", "ок"),
    "max": ("MAX", "макс"),
    "telegram": ("Telegram", "телеграм"),
}
STATUSES: dict[str, tuple[str, ...]] = {
    "active": ("действует", "активный", "активна"),
    "archived": ("архив", "архивный", "в архиве"),
}
YES = {"да", "yes", "true", "1", "+", "есть", "y", "д"}
NO = {"нет", "no", "false", "0", "-", "n", "н"}
_NON_WORD = re.compile(r"[^\w%]+|_")


def normalize(text: str) -> str:
    """Lower case, ``ё`` as ``е``, punctuation and underscores as single spaces."""
    return " ".join(_NON_WORD.sub(" ", text.lower().replace("ё", "е")).replace("%", " ").split())


_HEADERS: dict[str, Column] = {}
for _column in COLUMNS:
    for _name in (_column.header, _column.field, *_column.aliases):
        _HEADERS.setdefault(normalize(_name), _column)


def vocabulary(values: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Accepted spellings (normalised) -> code, for one enumeration."""
    result = {normalize(code): code for code in values}
    for code, names in values.items():
        result.update({normalize(name): code for name in names})
    return result


def display(values: Mapping[str, tuple[str, ...]], code: str) -> str:
    """How export writes a code."""
    return values.get(code, (code,))[0]


@dataclass
class Problem:
    """A problem with one cell or row, as reported to the user."""

    row: int
    column: str | None
    message: str


@dataclass
class Table:
    """Data rows read from a file: ``{field: cell value}`` by row number, plus the file's header labels."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def cell_text(value: Any) -> str | None:
    """A cell as stripped text (``None`` if blank); whole floats lose their ``.0``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _match_header(grid: Sequence[Sequence[Any]], index: int) -> dict[int, tuple[Column, str]]:
    row = grid[index]
    above = grid[index - 1] if index > 0 else []
    matched: dict[int, tuple[Column, str]] = {}
    used: set[str] = set()
    for position, value in enumerate(row):
        text = cell_text(value)
        upper = cell_text(above[position]) if position < len(above) else None
        candidates = [
            c for c in (text, f"{upper} {text}" if upper and text else None, upper if not text else None) if c
        ]
        for candidate in candidates:
            column = _HEADERS.get(normalize(candidate))
            if column and column.field not in used:
                matched[position] = (column, candidate)
                used.add(column.field)
                break
    return matched


def _read_grid(grid: Sequence[Sequence[Any]], *, first_row_number: int = 1) -> Table:
    table = Table()
    best_index, best = -1, dict[int, tuple[Column, str]]()
    for index in range(min(HEADER_SCAN_ROWS, len(grid))):
        matched = _match_header(grid, index)
        fields = {column.field for column, _ in matched.values()}
        if len(matched) > len(best) and {"name", "ogrn"} & fields:
            best_index, best = index, matched
    if len(best) < 2:
        table.problems.append(
            Problem(first_row_number, None, "no header row found: expected columns such as Наименование, ИНН, ОГРН")
        )
        return table
    table.labels = {column.field: label for column, label in best.values()}
    for required, header in (("name", "Наименование"), ("inn", "ИНН"), ("ogrn", "ОГРН")):
        if required not in table.labels:
            table.problems.append(Problem(best_index + first_row_number, header, "required column is missing"))
    if table.problems:
        return table
    columns = [(position, column.field) for position, (column, _) in best.items() if not column.export_only]
    for index in range(best_index + 1, len(grid)):
        row = grid[index]
        values = {name: row[position] for position, name in columns if position < len(row)}
        if any(cell_text(value) is not None for value in values.values()):
            table.rows.append((index + first_row_number, values))
    return table


def _unmerge(sheet: Any) -> None:
    """Give every cell of a merged range its top-left value (header rows only need it)."""
    for merged in list(sheet.merged_cells.ranges):
        if merged.min_row > HEADER_SCAN_ROWS:
            continue
        value = sheet.cell(merged.min_row, merged.min_col).value
        sheet.unmerge_cells(str(merged))
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                sheet.cell(row, col).value = value


def read_xlsx(content: bytes) -> Table:
    """Rows of the first worksheet that has a header row."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), data_only=True)
    except Exception as error:  # any parse failure of a user file is a user error
        return Table(problems=[Problem(1, None, f"not a readable XLSX file: {type(error).__name__}")])
    result = Table(problems=[Problem(1, None, "the workbook has no worksheets")])
    for sheet in workbook.worksheets:
        _unmerge(sheet)
        result = _read_grid([list(row) for row in sheet.iter_rows(values_only=True)])
        if result.rows or len(result.labels) >= 2:
            return result
    return result


def read_csv(content: bytes) -> Table:
    """Rows of a CSV file (UTF-8 with or without BOM, or Windows-1251; ``;``, ``,`` or tab separated)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1251", errors="replace")
    sample = text[:8192]
    delimiter = max(";,\t", key=sample.count)
    return _read_grid(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))


def read_table(content: bytes, *, filename: str | None = None) -> Table:
    """Rows of an XLSX (detected by content) or CSV file."""
    if content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx"):
        return read_xlsx(content)
    return read_csv(content)


def write_xlsx(rows: Iterable[Sequence[Any]]) -> bytes:
    """An XLSX workbook with the export header row and ``rows``."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Реестр")
    sheet.append([column.header for column in COLUMNS])
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    """A ``;``-separated UTF-8 CSV (with BOM, as Excel expects) with the export header row and ``rows``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in COLUMNS])
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")
