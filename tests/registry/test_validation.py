"""INN / OGRN / KPP / OKTMO / time zone rules, as functions and as 422 responses naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry import validation
from shared.regions import REGIONS
from tests.registry.helpers import institution_payload, make_inn, make_ogrn


@pytest.mark.parametrize("value", ["7707083893", "77 07 08 38 93", "7707329152"])
def test_valid_inn(value: str) -> None:
    assert validation.validate_inn(value) == value.replace(" ", "")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("7707083894", "checksum mismatch"),
        ("0000000000", "0000000000 is not a valid INN"),
        ("500100732259", "12-digit personal INN"),
        ("770708389", "must have 10 digits"),
        ("77070838AB", "digits only"),
    ],
)
def test_invalid_inn(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validation.validate_inn(value)


def test_ogrn() -> None:
    assert validation.validate_ogrn("1027700132195") == "1027700132195"
    for value, reason in [
        ("1027700132196", "checksum mismatch"),
        ("304500116000157", "OGRNIP"),
        ("0000000000000", "must start with 1 or 5"),
        ("102770013219", "13 digits"),
    ]:
        with pytest.raises(ValueError, match=reason):
            validation.validate_ogrn(value)


@pytest.mark.parametrize("value", ["770701001", "7707AB001", "7707ab001"])
def test_valid_kpp(value: str) -> None:
    assert validation.validate_kpp(value) == value.upper()


@pytest.mark.parametrize("value", ["77070100", "77070100X", "77A701001", "7707010011"])
def test_invalid_kpp(value: str) -> None:
    with pytest.raises(ValueError, match="4 digits"):
        validation.validate_kpp(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("50701000", True), ("50701000001", True), ("5070100", False), ("5070100000", False), ("5070100a", False)],
)
def test_oktmo(value: str, ok: bool) -> None:
    if ok:
        assert validation.validate_oktmo(value) == value
    else:
        with pytest.raises(ValueError, match="8 or 11 digits"):
            validation.validate_oktmo(value)


@pytest.mark.parametrize(
    ("value", "zone"),
    [
        ("Asia/Novosibirsk", "Asia/Novosibirsk"),
        (" europe/moscow ", "Europe/Moscow"),
        ("Europe/Kaliningrad", "Europe/Kaliningrad"),
        ("Asia/Kamchatka", "Asia/Kamchatka"),
        ("Europe/Simferopol", "Europe/Simferopol"),
    ],
)
def test_valid_time_zone(value: str, zone: str) -> None:
    assert validation.validate_time_zone(value) == zone


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Europe/Berlin", "not one of Russia's time zones"),
        ("Asia/Almaty", "not one of Russia's time zones"),
        ("UTC", "not one of Russia's time zones"),
        ("Asia/Novosibirk", "unknown time zone"),
        ("MSK+4", "unknown time zone"),
        ("", "unknown time zone"),
        ("../../etc/passwd", "unknown time zone"),
        ("Europe/Moscow\x00", "unknown time zone"),
    ],
)
def test_invalid_time_zone(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        validation.validate_time_zone(value)


def test_time_zones_are_russias() -> None:
    zones = set(validation.russian_time_zones().values())
    assert {"Europe/Kaliningrad", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Vladivostok", "Asia/Anadyr"} <= zones
    assert {region.timezone for region in REGIONS} <= zones  # every region's own zone may be named explicitly
    assert not {"Europe/Minsk", "Asia/Almaty", "Europe/Kyiv", "Asia/Tashkent"} & zones


@given(st.text(max_size=40))
def test_time_zone_validator_never_crashes(value: str) -> None:
    try:
        result = validation.validate_time_zone(value)
    except ValueError:
        return
    assert result in validation.russian_time_zones().values()


@given(st.integers(min_value=0, max_value=10**7 - 1), st.sampled_from(["01", "54", "77", "99"]))
def test_generated_numbers_are_valid_and_any_digit_change_breaks_them(serial: int, region: str) -> None:
    inn, ogrn = make_inn(serial, region), make_ogrn(serial, region)
    assert validation.validate_inn(inn) == inn
    assert validation.validate_ogrn(ogrn) == ogrn
    wrong = inn[:-1] + str((int(inn[-1]) + 1) % 10)
    with pytest.raises(ValueError, match="checksum mismatch"):
        validation.validate_inn(wrong)
    wrong_ogrn = ogrn[:-1] + str((int(ogrn[-1]) + 1) % 10)
    with pytest.raises(ValueError, match="checksum mismatch"):
        validation.validate_ogrn(wrong_ogrn)


@given(st.text(max_size=14))
def test_inn_validator_never_crashes(value: str) -> None:
    try:
        result = validation.validate_inn(value)
    except ValueError:
        return
    assert len(result) == 10 and result.isdigit()


def test_url_helpers() -> None:
    assert validation.url_key("https://www.VK.com/Club123/") == "vk.com/club123"
    assert validation.url_key("http://m.vk.com/club123") == "vk.com/club123"
    assert validation.vk_group_id_of("vk.com/public42") == 42
    assert validation.vk_group_id_of("https://vk.com/school1") is None
    assert validation.platform_of("https://ok.ru/group/1") == "ok"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ogrn": "1027700132196"}, "ogrn: checksum mismatch"),
        ({"inn": "0000000000"}, "inn: 0000000000 is not a valid INN"),
        ({"inn": "500100732259"}, "inn: a 12-digit personal INN"),
        ({"kpp": "77070100X"}, "kpp: must be 4 digits"),
        ({"oktmo": "123"}, "oktmo: must have 8 or 11 digits"),
        ({"time_zone": "Europe/Berlin"}, "time_zone: not one of Russia's time zones"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone: unknown time zone"),
        ({"time_zone": 7}, "time_zone:"),
        ({"region_code": "00"}, "region_code: unknown region code"),
        ({"spheres": []}, "spheres:"),
        ({"spheres": ["education", "culture", "sport", "youth"]}, "spheres:"),
        ({"kind": "bank"}, "kind:"),
    ],
)
def test_api_names_the_field(client: Any, federal: dict[str, str], overrides: dict[str, Any], message: str) -> None:
    response = client.post("/registry/institutions", json=institution_payload(**overrides), headers=federal)
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith(message)
