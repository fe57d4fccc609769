"""Checks of Russian registration numbers (INN, OGRN, KPP, OKTMO), time zones, page URLs and VK confirmation codes.

Each ``validate_*`` returns the normalised value or raises ``ValueError`` with a short reason that the API shows
after the field name (``ogrn: checksum mismatch``). python-stdnum is imported lazily (only ``stdnum.ru.inn`` and
``stdnum.ru.ogrn``): it costs ~80 ms and the API's cold start does not need it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib.resources import files
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.vk_ids import MAX_VK_ID, parse_vk_id

KPP_PATTERN = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
MAX_URL_LENGTH = 500
_SEPARATORS = re.compile(r"[\s\-]+")
_VK_NUMERIC_PATH = re.compile(r"^(?:club|public|event)(\d+)$")
_CONFIRMATION_CODE = re.compile(r"[A-Za-z0-9]{4,32}")
PLATFORM_HOSTS = {"vk.com": "vk", "vk.ru": "vk", "ok.ru": "ok", "max.ru": "max", "t.me": "telegram"}


def _compact(value: str) -> str:
    return _SEPARATORS.sub("", value.strip())


def plain_text(value: str) -> str:
    """Text with each run of whitespace (line breaks, tabs) as one space, none at the ends; no control characters."""
    text = " ".join(value.split())
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise ValueError("must not contain control characters")
    return text


def validate_inn(value: str) -> str:
    """An organisation's 10-digit INN (12-digit personal INNs and ``0000000000`` are rejected)."""
    from stdnum.exceptions import InvalidChecksum
    from stdnum.ru import inn

    number = _compact(value)
    if not number.isdigit():
        raise ValueError("must contain digits only")
    if len(number) == 12:
        raise ValueError("a 12-digit personal INN is not accepted, an organisation's INN has 10 digits")
    if len(number) != 10:
        raise ValueError("must have 10 digits")
    if number == "0" * 10:
        raise ValueError("0000000000 is not a valid INN")
    try:
        inn.validate(number)
    except InvalidChecksum:
        raise ValueError("checksum mismatch") from None
    return number


def validate_ogrn(value: str) -> str:
    """A legal entity's 13-digit OGRN (15-digit OGRNIPs are rejected)."""
    from stdnum.exceptions import InvalidChecksum
    from stdnum.ru import ogrn

    number = _compact(value)
    if not number.isdigit():
        raise ValueError("must contain digits only")
    if len(number) == 15:
        raise ValueError("a 15-digit OGRNIP (sole trader) is not accepted, an organisation's OGRN has 13 digits")
    if len(number) != 13:
        raise ValueError("must have 13 digits")
    if number[0] not in "15":
        raise ValueError("must start with 1 or 5")
    try:
        ogrn.validate(number)
    except InvalidChecksum:
        raise ValueError("checksum mismatch") from None
    return number


def validate_kpp(value: str) -> str:
    """A KPP: 4 digits, 2 digits or capital letters, 3 digits (no checksum exists)."""
    number = _compact(value).upper()
    if not KPP_PATTERN.match(number):
        raise ValueError("must be 4 digits, 2 digits or capital letters, then 3 digits")
    return number


def validate_oktmo(value: str) -> str:
    """An OKTMO code of 8 or 11 digits."""
    number = _compact(value)
    if not number.isdigit() or len(number) not in (8, 11):
        raise ValueError("must have 8 or 11 digits")
    return number


@cache
def russian_time_zones() -> dict[str, str]:
    """Russia's IANA zones (Europe/Kaliningrad ... Asia/Anadyr) by lower-case name, each one ``ZoneInfo`` loads.

    They are the zones tzdata's ``zone1970.tab`` lists for country RU (Europe/Simferopol is listed for RU and UA);
    read once, on the first check.
    """
    table = files("tzdata").joinpath("zoneinfo", "zone1970.tab").read_text(encoding="utf-8")
    zones: dict[str, str] = {}
    for line in table.splitlines():
        columns = line.split("\t")
        if line.startswith("#") or len(columns) < 3 or "RU" not in columns[0].split(","):
            continue
        try:
            ZoneInfo(columns[2])
        except ZoneInfoNotFoundError:
            continue
        zones[columns[2].lower()] = columns[2]
    return zones


@cache
def _iana_zone_names() -> frozenset[str]:
    """Every IANA zone name tzdata has, lower case (to tell a foreign zone from a misspelt one)."""
    names = files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(name.lower() for name in names)


def validate_time_zone(value: str) -> str:
    """An IANA time zone of Russia (``Asia/Novosibirsk``), in any letter case; returned as tzdata spells it."""
    name = value.strip().lower()
    zone = russian_time_zones().get(name)
    if zone is None:
        if name in _iana_zone_names():
            raise ValueError("not one of Russia's time zones, such as Europe/Moscow or Asia/Novosibirsk")
        raise ValueError("unknown time zone: give an IANA name such as Europe/Moscow or Asia/Novosibirsk")
    return zone


def validate_url(value: str) -> str:
    """An http(s) URL of at most ``MAX_URL_LENGTH`` characters; a bare ``vk.com/...`` gets ``https://``."""
    text = value.strip()
    if "://" not in text:
        text = f"https://{text}"
    if len(text) > MAX_URL_LENGTH:
        raise ValueError(f"must have at most {MAX_URL_LENGTH} characters")
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or "." not in parts.netloc
        or any(char.isspace() or not char.isprintable() for char in text)
    ):
        raise ValueError("must be an http(s) link")
    return text


def validate_page_url(value: str) -> str:
    """A page link (``validate_url``); a ``vk.com/club123`` link must name a community id VK can have."""
    text = validate_url(value)
    if _vk_community_digits(text) is not None and vk_group_id_of(text) is None:
        raise ValueError(f"the community id in the link must be a number from 1 to {MAX_VK_ID}")
    return text


def validate_confirmation_code(value: object) -> object:
    """The string VK asks the server to answer with: 4-32 Latin letters and digits (VK's are like ``1a2b3c4d``).

    Whitespace is refused rather than stripped, and so are the words VK reads as commands in that answer.
    """
    if not isinstance(value, str) or not _CONFIRMATION_CODE.fullmatch(value):
        raise ValueError("must be the code VK shows for the server: 4 to 32 Latin letters and digits, e.g. 1a2b3c4d")
    if value.lower() == "remove" or value.lower().startswith("version"):
        raise ValueError("is a word VK reads as a command, not a confirmation code")
    return value


def url_key(url: str) -> str:
    """The uniqueness key of a page link: host without ``www.``/``m.``, path, lower case, no trailing slash."""
    parts = urlsplit(url.strip().lower() if "://" in url else f"https://{url.strip().lower()}")
    host = parts.netloc.removeprefix("www.").removeprefix("m.")
    return f"{host}{parts.path.rstrip('/')}"


def platform_of(url: str) -> str | None:
    """The platform a page link points to (``vk``, ``ok``, ``max``, ``telegram``), if known."""
    host = url_key(url).split("/", 1)[0]
    return PLATFORM_HOSTS.get(host)


def _vk_community_digits(url: str) -> str | None:
    key = url_key(url)
    if platform_of(url) != "vk" or "/" not in key:
        return None
    match = _VK_NUMERIC_PATH.match(key.split("/", 1)[1])
    return match.group(1) if match else None


def vk_group_id_of(url: str) -> int | None:
    """The community id of a ``vk.com/club123`` / ``public123`` link (``None``: a screen name, or out of range)."""
    digits = _vk_community_digits(url)
    return parse_vk_id(digits) if digits is not None else None
