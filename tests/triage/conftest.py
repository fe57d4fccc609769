"""Triage fixtures: a small model trained once per session on ``fixtures/`` (never on the real data)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixture_settings() -> object:
    from services.appeals.triage.features import FeatureConfig
    from tooling.triage.fit import Settings

    return Settings(features=FeatureConfig(bits=14), answer_features=FeatureConfig(bits=12, char_ngrams=(3,)))


@pytest.fixture(scope="session")
def fixture_model(fixture_settings: object) -> object:
    from tooling.triage.data import LEXICON_DIR
    from tooling.triage.train import build

    return build(FIXTURES / "train", LEXICON_DIR, FIXTURES / "answers.jsonl", settings=fixture_settings)  # type: ignore[arg-type]
