"""Settings from the environment: JSON-valued variables parsed, bad values refused with the variable's name."""

from __future__ import annotations

import pytest

from shared.config import Settings, SettingsError


def test_json_variables_are_parsed_and_empty_ones_are_unset() -> None:
    settings = Settings.from_environ(
        {
            "GOSPUBLIKI_REGISTRY_COMPLIANCE_WEIGHTS": '{"gov_mark": 2}',
            "GOSPUBLIKI_METRICS_INTERNET_AUDIENCE": '{"54": 2100000}',
            "GOSPUBLIKI_VK_API_URL": "",
        }
    )
    assert settings.registry_compliance_weights == {"gov_mark": 2.0}
    assert settings.metrics_internet_audience == {"54": 2_100_000}
    assert settings.vk_api_url == "https://api.vk.com/method"


@pytest.mark.parametrize(
    "name,value",
    [
        ("GOSPUBLIKI_REGISTRY_COMPLIANCE_WEIGHTS", "{not json"),
        ("GOSPUBLIKI_METRICS_SCORE_WEIGHTS", '{"54": {"compliance": "heavy"}}'),
        ("GOSPUBLIKI_CACHE_TTL_SECONDS", "-1"),
    ],
)
def test_a_bad_value_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_environ({name: value})
    assert name.removeprefix("GOSPUBLIKI_").lower() in str(refused.value)
