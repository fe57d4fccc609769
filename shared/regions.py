"""Federal subjects of the Russian Federation (region codes as used by the FNS)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "REGIONS",
    "Region",
    "UnknownRegionError",
    "get_region",
    "is_region",
    "normalize_region_code",
]


class UnknownRegionError(ValueError):
    """Raised when a value is not the code of a federal subject."""

    def __init__(self, code: object) -> None:
        """Build the error message for ``code``."""
        super().__init__(f"unknown region code '{code}'")


@dataclass(frozen=True, slots=True)
class Region:
    """A federal subject: 2-digit code, official name, IANA zone, ISO 3166-2 code."""

    code: str
    name: str
    timezone: str
    iso: str | None

    @property
    def zone(self) -> ZoneInfo:
        """Return the region's primary time zone."""
        return ZoneInfo(self.timezone)


def _region_from_json(item: Any) -> Region:
    """Build a Region from one decoded JSON object, checking field types."""
    if not isinstance(item, dict):
        raise TypeError(f"region entry must be an object, got {item!r}")
    code, name, timezone, iso = (
        item["code"],
        item["name"],
        item["timezone"],
        item["iso"],
    )
    if not (
        isinstance(code, str)
        and isinstance(name, str)
        and isinstance(timezone, str)
        and (iso is None or isinstance(iso, str))
    ):
        raise TypeError(f"malformed region entry {item!r}")
    return Region(code=code, name=name, timezone=timezone, iso=iso)


def _load() -> tuple[Region, ...]:
    """Read regions.json from the ``shared`` package."""
    text = files("shared").joinpath("regions.json").read_text(encoding="utf-8")
    return tuple(_region_from_json(item) for item in json.loads(text))


REGIONS: tuple[Region, ...] = _load()
_BY_CODE: dict[str, Region] = {region.code: region for region in REGIONS}


def get_region(code: str) -> Region:
    """Return the region with the exact 2-digit ``code``."""
    try:
        return _BY_CODE[code]
    except (KeyError, TypeError):
        raise UnknownRegionError(code) from None


def is_region(code: str) -> bool:
    """Tell whether ``code`` is the exact 2-digit code of a region."""
    return isinstance(code, str) and code in _BY_CODE


def normalize_region_code(value: str | int) -> str:
    """Return the 2-digit code for ``value`` ("54", 54, "4" -> "04")."""
    if isinstance(value, bool):
        raise UnknownRegionError(value)
    if isinstance(value, int):
        text = str(value) if 0 <= value <= 99 else ""
    elif isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit() and len(text) <= 2):
            text = ""
    else:
        raise UnknownRegionError(value)
    code = text.zfill(2) if text else ""
    if code not in _BY_CODE:
        raise UnknownRegionError(value)
    return code
