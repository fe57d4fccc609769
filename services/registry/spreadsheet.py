"""Reading and writing registry spreadsheets (XLSX and CSV) with the columns regions actually use.

One row is an institution and at most one of its pages; an institution with several pages takes several rows with
the same OGRN, one without pages a row with the page columns blank. Each platform's link has its own column (export
writes a page's link in its platform's column; import also takes a link from a plain «Ссылка» column, and a link in
another platform's column if the link itself says its platform). Headers are matched case-insensitively, ``ё`` as
``е``, punctuation ignored, in Russian or English (``COLUMNS``: the first name is what export writes). The header row
may be anywhere in the first 30 rows and may span two rows with merged cells (e.g. «Страница ВК» over «Ссылка» and
«Категория»); blank rows are skipped. A blank cell keeps the stored value on import.

Files are read as a stream within fixed limits (upload size, unpacked size, rows, columns): a file past one is
refused with 413 before its rows are processed. Text that a spreadsheet program would run as a formula (starting
with ``=``, ``+``, ``-``, ``@``, tab or CR) is written as text: a string cell in XLSX, a ``'`` mark in CSV that
import takes off again, so exporting and importing a file changes nothing.

openpyxl and zipfile are imported lazily: the API's cold start does not pay for them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import chain, islice
from typing import Any

from shared.errors import PayloadTooLargeError

HEADER_SCAN_ROWS = 30
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""What a workbook may unpack to; worksheets are read as a stream, row by row."""
MAX_LOADED_BYTES = 32 * 1024 * 1024
"""What the parts read whole (shared strings, styles, ...) may unpack to."""
MAX_SHEET_ROWS = 20_000
MAX_SHEET_COLUMNS = 100
SHOWN_CHARACTERS = 60
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"
"""Marks a CSV cell as text (as spreadsheet programs do); written before formula starts and before itself."""
_MARKED_STARTS = (*FORMULA_STARTS, TEXT_MARK)


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

LINK_COLUMNS: dict[str, Column] = {
    "vk": Column(
        "vk_url", "Ссылка на страницу ВК", ("vk_url", "ссылка на страницу вконтакте", "ссылка вк", "страница вк ссылка")
    ),
    "ok": Column(
        "ok_url",
        "Ссылка на страницу ОК",
        ("ok_url", "ссылка на страницу в одноклассниках", "ссылка ок", "страница ок ссылка"),
    ),
    "max": Column("max_url", "Ссылка на страницу MAX", ("max_url", "ссылка max", "страница max ссылка")),
    "telegram": Column(
        "telegram_url", "Ссылка на канал Telegram", ("telegram_url", "ссылка на telegram", "ссылка на телеграм")
    ),
}
"""Each platform's link column, by platform."""

ANY_LINK_COLUMN = Column(
    "url",
    "Ссылка на страницу",
    ("page_url", "url", "ссылка на госпаблик", "ссылка", "страница ссылка", "адрес страницы"),
)
"""A link of any platform (import only: export writes each link in its platform's column)."""

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
    Column("time_zone", "Часовой пояс", ("time_zone", "timezone", "часовая зона", "часовой пояс учреждения")),
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
    *LINK_COLUMNS.values(),
    Column("group_id", "ID сообщества", ("group_id", "id группы", "id сообщества вк", "идентификатор сообщества")),
    Column("screen_name", "Короткое имя", ("screen_name", "короткий адрес")),
    Column("category", "Категория", ("category", "категория страницы", "страница вк категория", "страница категория")),
    Column("subscribers", "Подписчики", ("subscribers", "число подписчиков", "количество подписчиков")),
    *CHECKLIST_COLUMNS,
    Column("quality_marks", "Знак качества (годы)", ("quality_marks", "знак качества")),
    Column("page_status", "Статус страницы", ("page_status",)),
    Column("compliance_pct", "Соответствие, %", ("compliance_pct", "соответствие"), export_only=True),
)
"""The columns export writes, in order."""

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
_ILLEGAL_XLSX_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def normalize(text: str) -> str:
    """Lower case, ``ё`` as ``е``, punctuation and underscores as single spaces."""
    return " ".join(_NON_WORD.sub(" ", text.lower().replace("ё", "е")).replace("%", " ").split())


_HEADERS: dict[str, Column] = {}
for _column in (*COLUMNS, ANY_LINK_COLUMN):
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
    """Data rows read from a file (``{field: cell value}`` by row number, blank cells left out) and its headers."""

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


def shown(text: str) -> str:
    """Text as a message quotes it: single-spaced, cut to ``SHOWN_CHARACTERS`` with an ellipsis."""
    single = " ".join(text.split())
    return single if len(single) <= SHOWN_CHARACTERS else f"{single[: SHOWN_CHARACTERS - 1]}…"


def _spread(row: Sequence[Any]) -> list[str | None]:
    """A row's labels, a blank cell taking the label on its left (how a cell merged across columns reads)."""
    labels: list[str | None] = []
    last: str | None = None
    for value in row:
        last = cell_text(value) or last
        labels.append(last)
    return labels


def _match_header(grid: Sequence[Sequence[Any]], index: int) -> dict[int, tuple[Column, str]]:
    row = grid[index]
    above = _spread(grid[index - 1]) if index > 0 else []
    matched: dict[int, tuple[Column, str]] = {}
    used: set[str] = set()
    for position, value in enumerate(row):
        text = cell_text(value)
        upper = above[position] if position < len(above) else None
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


def _bounded(rows: Iterable[Sequence[Any]]) -> Iterator[tuple[Any, ...]]:
    """The rows without trailing blank cells; 413 past ``MAX_SHEET_ROWS`` rows or ``MAX_SHEET_COLUMNS`` columns."""
    for number, row in enumerate(rows, start=1):
        if number > MAX_SHEET_ROWS:
            raise PayloadTooLargeError(f"more than {MAX_SHEET_ROWS} rows: split the file", field="file")
        width = len(row)
        while width and row[width - 1] in (None, ""):
            width -= 1
        if width > MAX_SHEET_COLUMNS:
            raise PayloadTooLargeError(f"row {number} has more than {MAX_SHEET_COLUMNS} columns", field="file")
        yield tuple(row[:width])


def _read_rows(rows: Iterable[Sequence[Any]]) -> Table:
    """The header row found in the first rows, then every non-blank row below it (read only if a header is found)."""
    table = Table()
    stream = _bounded(rows)
    head = list(islice(stream, HEADER_SCAN_ROWS))
    best_index, best = -1, dict[int, tuple[Column, str]]()
    for index in range(len(head)):
        matched = _match_header(head, index)
        fields = {column.field for column, _ in matched.values()}
        if len(matched) > len(best) and {"name", "ogrn"} & fields:
            best_index, best = index, matched
    if len(best) < 2:
        table.problems.append(Problem(1, None, "no header row found: expected columns such as Наименование, ИНН, ОГРН"))
        return table
    table.labels = {column.field: shown(label) for column, label in best.values()}
    for required, header in (("name", "Наименование"), ("inn", "ИНН"), ("ogrn", "ОГРН")):
        if required not in table.labels:
            table.problems.append(Problem(best_index + 1, header, "required column is missing"))
    if table.problems:
        return table
    columns = [(position, column.field) for position, (column, _) in best.items() if not column.export_only]
    for number, row in enumerate(chain(head[best_index + 1 :], stream), start=best_index + 2):
        values = {name: row[position] for position, name in columns if position < len(row)}
        if any(cell_text(value) is not None for value in values.values()):
            table.rows.append((number, {name: value for name, value in values.items() if value is not None}))
    return table


def _check_archive(content: bytes) -> None:
    """413 for a workbook that would unpack past the limits (by the sizes its archive declares, before unpacking)."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        members = archive.infolist()
    unpacked = sum(member.file_size for member in members)
    loaded = sum(member.file_size for member in members if not member.filename.startswith("xl/worksheets/"))
    if unpacked > MAX_UNPACKED_BYTES or loaded > MAX_LOADED_BYTES:
        raise PayloadTooLargeError(
            f"the workbook unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB, or more than "
            f"{MAX_LOADED_BYTES // 2**20} MB besides its sheets",
            field="file",
        )


def _check_dimension(sheet: Any) -> None:
    """413 for a sheet whose declared size is past the limits, before any of its rows is read."""
    rows, columns = sheet.max_row or 0, sheet.max_column or 0
    if rows > MAX_SHEET_ROWS or columns > MAX_SHEET_COLUMNS:
        raise PayloadTooLargeError(
            f"sheet «{shown(sheet.title)}» spans {rows} rows and {columns} columns; at most {MAX_SHEET_ROWS} rows "
            f"and {MAX_SHEET_COLUMNS} columns are read: delete what lies below or right of the data",
            field="file",
        )


def _first_table(sheets: Iterable[Any]) -> Table:
    result = Table(problems=[Problem(1, None, "the workbook has no worksheets")])
    for sheet in sheets:
        _check_dimension(sheet)
        sheet.reset_dimensions()  # a declared size smaller than the data would hide rows: read what is there
        result = _read_rows(sheet.iter_rows(values_only=True))
        if result.rows or len(result.labels) >= 2:
            return result
    return result


def read_xlsx(content: bytes) -> Table:
    """Rows of the first worksheet that has a header row."""
    from openpyxl import load_workbook

    try:
        _check_archive(content)
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True, keep_links=False)
        try:
            return _first_table(workbook.worksheets)
        finally:
            workbook.close()
    except PayloadTooLargeError:
        raise
    except Exception as error:  # any parse failure of a user file is a user error
        return Table(problems=[Problem(1, None, f"not a readable XLSX file: {type(error).__name__}")])


def _without_text_mark(value: str) -> str:
    return value[1:] if value[:1] == TEXT_MARK and value[1:2] in _MARKED_STARTS else value


def read_csv(content: bytes) -> Table:
    """Rows of a CSV file (UTF-8 with or without BOM, or Windows-1251; ``;``, ``,`` or tab separated)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1251", errors="replace")
    delimiter = max(";,\t", key=text[:8192].count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _read_rows([_without_text_mark(value) for value in row] for row in reader)
    except csv.Error as error:
        return Table(problems=[Problem(reader.line_num, None, f"not a readable CSV file: {error}")])


def read_table(content: bytes, *, filename: str | None = None) -> Table:
    """Rows of an XLSX (detected by content) or CSV file; 413 for a file past the limits."""
    if len(content) > MAX_IMPORT_BYTES:
        raise PayloadTooLargeError(f"larger than {MAX_IMPORT_BYTES // 2**20} MB", field="file")
    if content[:4] == b"PK\x03\x04" or (filename or "").lower().endswith(".xlsx"):
        return read_xlsx(content)
    return read_csv(content)


def _runs_as_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def write_xlsx(rows: Iterable[Sequence[Any]]) -> bytes:
    """An XLSX workbook with the export header row and ``rows``; text is written as string cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Реестр")
    sheet.append([column.header for column in COLUMNS])

    def cell(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        result = WriteOnlyCell(sheet, value=_ILLEGAL_XLSX_CHARACTERS.sub("", value))
        if _runs_as_formula(value):
            result.data_type = "s"
        return result

    for row in rows:
        sheet.append([cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    """A ``;``-separated UTF-8 CSV (with BOM, as Excel expects) with the export header row and ``rows``."""

    def cell(value: Any) -> Any:
        if value is None:
            return ""
        return f"{TEXT_MARK}{value}" if isinstance(value, str) and value.startswith(_MARKED_STARTS) else value

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in COLUMNS])
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")
