"""Rows of an import file as validated values: registration numbers, vocabularies in Russian, lists and years.

Every cell of a row is checked; a row with problems yields all of them (``{row, column, message}``) instead of a
``Row``, so one broken row never aborts the others. Messages quote a cell at most ``spreadsheet.SHOWN_CHARACTERS``
long. A row's page link comes from one link column (``spreadsheet.LINK_COLUMNS`` or a plain link column).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.registry import spreadsheet, validation
from services.registry.compliance import CHECKLIST_ITEMS
from services.registry.records import INSTITUTION_FIELDS
from services.registry.spreadsheet import Problem, cell_text, normalize, shown, vocabulary
from shared.regions import REGIONS, UnknownRegionError, normalize_region_code
from shared.vk_ids import MAX_VK_ID, parse_vk_id

_LIST_SEPARATORS = re.compile(r"[;,/\n]+")
_VOCABULARIES = {
    "level": vocabulary(spreadsheet.LEVELS),
    "kind": vocabulary(spreadsheet.KINDS),
    "platform": vocabulary(spreadsheet.PLATFORMS),
    "category": vocabulary(spreadsheet.CATEGORIES),
    "status": vocabulary(spreadsheet.STATUSES),
    "page_status": vocabulary(spreadsheet.STATUSES),
}
_SPHERES = vocabulary(spreadsheet.SPHERES)
_REGION_NAMES = {normalize(region.name): region.code for region in REGIONS}
_TEXT_LIMITS = {"name": 500, "short_name": 500, "municipality": 500, "no_page_reason": 500, "screen_name": 100}
_LINK_PLATFORMS: dict[str, str | None] = {
    spreadsheet.ANY_LINK_COLUMN.field: None,
    **{column.field: platform for platform, column in spreadsheet.LINK_COLUMNS.items()},
}
_PAGE_FIELDS = {"platform", "group_id", "screen_name", "category", "subscribers", "quality_marks", "page_status"}
_INSTITUTION_FIELDS = set(INSTITUTION_FIELDS) | {"status"}


@dataclass
class Row:
    """One validated data row; ``link_field`` is the column its page link came from."""

    number: int
    institution: dict[str, Any]
    parent_ogrn: str | None = None
    page: dict[str, Any] | None = None
    checklist: dict[str, Any] = field(default_factory=dict)
    link_field: str = spreadsheet.ANY_LINK_COLUMN.field


def _digits(raw: Any, text: str, lengths: Mapping[int, int]) -> str:
    """Restore leading zeros that a numeric spreadsheet cell dropped (e.g. a 9-digit INN of region 01-09)."""
    if isinstance(raw, int | float) and not isinstance(raw, bool) and len(text) in lengths:
        return text.zfill(lengths[len(text)])
    return text


def _choice(name: str, text: str) -> str:
    code = _VOCABULARIES[name].get(normalize(text))
    if code is None:
        raise ValueError(f"unknown value '{shown(text)}'")
    return code


def _spheres(text: str) -> list[str]:
    result: list[str] = []
    for part in filter(None, (p.strip() for p in _LIST_SEPARATORS.split(text))):
        code = _SPHERES.get(normalize(part))
        if code is None:
            raise ValueError(f"unknown sphere '{shown(part)}'")
        if code not in result:
            result.append(code)
    if not 1 <= len(result) <= 3:
        raise ValueError("give 1 to 3 spheres")
    return result


def _boolean(text: str) -> bool:
    value = normalize(text)
    if value in spreadsheet.YES:
        return True
    if value in spreadsheet.NO:
        return False
    raise ValueError(f"expected да or нет, got '{shown(text)}'")


def _integer(text: str, *, low: int, high: int) -> int:
    compact = text.replace(" ", "").replace("\u00a0", "")
    if not (compact.isascii() and compact.isdigit()):
        raise ValueError("must be a whole number")
    if len(compact.lstrip("0")) > len(str(high)) or not low <= int(compact) <= high:
        raise ValueError(f"must be between {low} and {high}")
    return int(compact)


def _vk_id(text: str) -> int:
    value = parse_vk_id(text.replace(" ", "").replace("\u00a0", ""))
    if value is None:
        raise ValueError(f"must be a VK community id, a number from 1 to {MAX_VK_ID}")
    return value


def _text(name: str, text: str) -> str:
    value = validation.plain_text(text)
    if len(value) > _TEXT_LIMITS[name]:
        raise ValueError(f"longer than {_TEXT_LIMITS[name]} characters")
    return value


def _region(text: str) -> str:
    try:
        return normalize_region_code(text)
    except UnknownRegionError:
        code = _REGION_NAMES.get(normalize(text))
        if code is None:
            raise ValueError(f"unknown region '{shown(text)}'") from None
        return code


def _years(text: str) -> list[int]:
    parts = filter(None, (p.strip() for p in re.split(r"[;,\s]+", text)))
    return sorted({_integer(part, low=2000, high=2100) for part in parts})


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    "inn": lambda raw, text: validation.validate_inn(_digits(raw, text, {9: 10})),
    "ogrn": lambda _, text: validation.validate_ogrn(text),
    "parent_ogrn": lambda _, text: validation.validate_ogrn(text),
    "kpp": lambda raw, text: validation.validate_kpp(_digits(raw, text, {8: 9})),
    "oktmo": lambda raw, text: validation.validate_oktmo(_digits(raw, text, {7: 8, 10: 11})),
    "region": lambda _, text: _region(text),
    "time_zone": lambda _, text: validation.validate_time_zone(text),
    "spheres": lambda _, text: _spheres(text),
    "website": lambda _, text: validation.validate_url(text),
    **dict.fromkeys(_LINK_PLATFORMS, lambda _, text: validation.validate_page_url(text)),
    "group_id": lambda _, text: _vk_id(text),
    "subscribers": lambda _, text: _integer(text, low=0, high=10**10),
    "quality_marks": lambda _, text: _years(text),
    "pos_widgets": lambda _, text: _integer(text, low=0, high=2),
}


def _link(number: int, parsed: dict[str, Any], *, labels: Mapping[str, str], problems: list[Problem]) -> str:
    """Move the row's link to ``url`` and name the column it came from (or the one a link belongs in).

    A platform's column gives the platform of a link whose host does not tell it; two links in a row are a problem.
    """
    filled = [name for name in _LINK_PLATFORMS if name in parsed]
    if not filled:
        return next((name for name in _LINK_PLATFORMS if name in labels), spreadsheet.ANY_LINK_COLUMN.field)
    if len(filled) > 1:
        first = labels.get(filled[0], filled[0])
        problems.append(Problem(number, labels.get(filled[1], filled[1]), f"one page per row: {first} has a link too"))
    url = parsed["url"] = parsed.pop(filled[0])
    platform = _LINK_PLATFORMS[filled[0]]
    if platform and "platform" not in parsed and validation.platform_of(url) is None:
        parsed["platform"] = platform
    return filled[0]


def parse_row(
    number: int, values: Mapping[str, Any], *, labels: Mapping[str, str], region_code: str
) -> Row | list[Problem]:
    """A validated row, or every problem found in it."""
    problems: list[Problem] = []
    parsed: dict[str, Any] = {}
    for name, raw in values.items():
        text = cell_text(raw)
        if text is None:
            continue
        try:
            if name in _PARSERS:
                parsed[name] = _PARSERS[name](raw, text)
            elif name in _VOCABULARIES:
                parsed[name] = _choice(name, text)
            elif name in CHECKLIST_ITEMS:
                parsed[name] = _boolean(text)
            elif name in _TEXT_LIMITS:
                parsed[name] = _text(name, text)
        except ValueError as error:
            problems.append(Problem(number, labels.get(name, name), str(error)))
    link_field = _link(number, parsed, labels=labels, problems=problems)
    for required in ("name", "inn", "ogrn"):
        if required not in parsed and not any(p.column == labels.get(required) for p in problems):
            problems.append(Problem(number, labels.get(required, required), "required"))
    row_region = parsed.pop("region", region_code)
    if row_region != region_code:
        problems.append(Problem(number, labels.get("region"), f"the row is for region {row_region}, not {region_code}"))
    if "url" not in parsed and _PAGE_FIELDS & parsed.keys():
        problems.append(Problem(number, labels.get(link_field, link_field), "required when page columns are filled"))
    if problems:
        return problems
    row = Row(number=number, institution={k: v for k, v in parsed.items() if k in _INSTITUTION_FIELDS})
    row.link_field = link_field
    row.parent_ogrn = parsed.get("parent_ogrn")
    row.checklist = {k: v for k, v in parsed.items() if k in CHECKLIST_ITEMS}
    if "url" in parsed:
        row.page = {k: v for k, v in parsed.items() if k in _PAGE_FIELDS or k == "url"}
        if "page_status" in row.page:
            row.page["status"] = row.page.pop("page_status")
    return row
