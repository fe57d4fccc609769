"""Tests for shared.regions."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.resources import files
from zoneinfo import ZoneInfo

import pytest

from shared.regions import (
    REGIONS,
    Region,
    UnknownRegionError,
    get_region,
    is_region,
    normalize_region_code,
)

WINTER = datetime(2026, 1, 15, 12, 0)


def _offset_hours(region: Region) -> float:
    """UTC offset of the region on 2026-01-15, in hours."""
    offset = WINTER.replace(tzinfo=region.zone).utcoffset()
    assert offset is not None
    return offset / timedelta(hours=1)


def test_there_are_89_regions_sorted_by_code() -> None:
    assert len(REGIONS) == 89
    codes = [r.code for r in REGIONS]
    assert codes == sorted(codes)
    assert all(len(c) == 2 and c.isdigit() for c in codes)


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in REGIONS}) == 89
    assert len({r.name for r in REGIONS}) == 89


def test_code_set_is_complete() -> None:
    later = {"83", "86", "87", "89", "90", "91", "92", "93", "94", "95"}
    expected = {f"{n:02d}" for n in range(1, 80)} | later
    assert {r.code for r in REGIONS} == expected


def test_iso_codes() -> None:
    without_iso = {r.code for r in REGIONS if r.iso is None}
    assert without_iso == {"90", "91", "92", "93", "94", "95"}
    isos = [r.iso for r in REGIONS if r.iso is not None]
    assert len(set(isos)) == len(isos)
    assert all(iso.startswith("RU-") for iso in isos)
    assert get_region("54").iso == "RU-NVS"
    assert get_region("77").iso == "RU-MOW"


@pytest.mark.parametrize("region", REGIONS, ids=lambda r: r.code)
def test_zone_resolves_from_tzdata(region: Region) -> None:
    # files() fails if the tzdata package is missing: zones must come from it.
    resource = files("tzdata.zoneinfo").joinpath(*region.timezone.split("/"))
    assert resource.is_file(), region.timezone
    assert isinstance(region.zone, ZoneInfo)
    assert region.zone.key == region.timezone


def test_offsets_span_from_kaliningrad_to_kamchatka_and_chukotka() -> None:
    offsets = {r.code: _offset_hours(r) for r in REGIONS}
    assert min(offsets.values()) == 2
    assert max(offsets.values()) == 12
    assert [c for c, h in offsets.items() if h == 2] == ["39"]
    assert sorted(c for c, h in offsets.items() if h == 12) == ["41", "87"]
    assert offsets["77"] == 3
    assert offsets["54"] == 7


def test_crimea_and_sevastopol_use_simferopol() -> None:
    assert get_region("91").timezone == "Europe/Simferopol"
    assert get_region("92").timezone == "Europe/Simferopol"


@pytest.mark.parametrize("code", ["90", "93", "94", "95"])
def test_2022_subjects_use_moscow(code: str) -> None:
    assert get_region(code).timezone == "Europe/Moscow"


def test_get_region() -> None:
    region = get_region("54")
    assert region == Region(
        code="54",
        name="Новосибирская область",
        timezone="Asia/Novosibirsk",
        iso="RU-NVS",
    )
    assert get_region("20").name == "Чеченская Республика"
    assert get_region("21").name == "Чувашская Республика — Чувашия"


@pytest.mark.parametrize("code", ["00", "80", "81", "82", "84", "85", "88", "96", "4", ""])
def test_unknown_code_raises(code: str) -> None:
    assert not is_region(code)
    with pytest.raises(UnknownRegionError, match=f"^unknown region code '{code}'$"):
        get_region(code)


def test_unknown_region_error_is_value_error() -> None:
    assert issubclass(UnknownRegionError, ValueError)


def test_is_region() -> None:
    assert is_region("54")
    assert is_region("95")
    assert not is_region("54 ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("54", "54"), (54, "54"), ("4", "04"), (4, "04"), ("04", "04"), (" 77 ", "77"), (95, "95")],
)
def test_normalize_region_code(value: str | int, expected: str) -> None:
    assert normalize_region_code(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "0", 0, "00", "80", 88, 100, -4, "-4", "004", "5a", "abc", "٥٤", True],
)
def test_normalize_region_code_rejects(value: str | int) -> None:
    with pytest.raises(UnknownRegionError, match="^unknown region code '"):
        normalize_region_code(value)


def test_region_is_frozen() -> None:
    region = get_region("54")
    with pytest.raises(AttributeError):
        region.code = "55"  # type: ignore[misc]
