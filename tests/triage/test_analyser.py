"""The analyser's output schema, with the committed weights and with a fixture model."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.appeals import triage
from services.appeals.labels import KINDS, RUBRICS
from services.appeals.triage.analyser import Analyser
from services.appeals.triage.answers import FLAGS
from services.appeals.triage.model import ModelError, decode
from tooling.triage.fit import Trained

MESSAGES = [
    "Когда отремонтируют дорогу на Ленина? Ямы по колено",
    "В подъезде пахнет газом, срочно!",
    "Спасибо за новый каток!",
    "Заработок от 5000 в день, пишите в лс",
    "👍",
    "",
    "бл@ть когда уберут мусор" * 500,
]


@pytest.mark.parametrize("text", MESSAGES)
def test_committed_weights_give_the_documented_schema(text: str) -> None:
    result = triage.analyse(text)
    data = result.as_dict()
    assert set(data) == {"kind", "rubric", "priority", "obscene", "confidence", "classifier_version"}
    assert data["kind"] in KINDS
    assert (data["rubric"] in RUBRICS) if data["kind"] == "appeal" else data["rubric"] is None
    assert data["priority"] in ("normal", "urgent")
    assert data["priority"] == "normal" or data["kind"] == "appeal"
    assert isinstance(data["obscene"], bool)
    assert 0.0 <= data["confidence"] <= 1.0
    assert data["classifier_version"] == triage.classifier_version()
    assert data["classifier_version"].startswith("triage-")


def test_rate_answer_schema() -> None:
    template = triage.rate_answer("Ваше обращение передано в ответственное ведомство.")
    real = triage.rate_answer(
        "Здравствуйте! Яма на ул. Ленина включена в план ямочного ремонта, работы выполнит подрядчик до 20 мая."
    )
    assert 0 <= template.score <= 100 and 0 <= real.score <= 100
    assert set(template.flags) <= set(FLAGS) and set(real.flags) <= set(FLAGS)
    assert {"no_greeting", "no_deadline", "no_measures", "template_only"} <= set(template.flags)
    assert not {"no_greeting", "no_deadline", "no_measures", "template_only"} & set(real.flags)
    assert real.score > 50 > template.score
    assert template.as_dict() == {"score": template.score, "flags": list(template.flags)}


def test_fixture_model_learns_the_obvious(fixture_model: Trained) -> None:
    analyser = fixture_model.analyser()
    assert analyser.analyse("Спасибо большое врачам больницы!").kind == "gratitude"
    appeal = analyser.analyse("Когда вывезут мусор? Контейнеры переполнены")
    assert (appeal.kind, appeal.rubric) == ("appeal", "waste")
    assert analyser.analyse("Когда, бл@ть, починят дорогу?").obscene


def test_damaged_weights_are_refused(fixture_model: Trained) -> None:
    data = bytearray(fixture_model.comments)
    data[-1] ^= 0xFF
    with pytest.raises(ModelError, match="CRC"):
        decode(bytes(data))
    with pytest.raises(ModelError):
        decode(b"not a model")
    with pytest.raises(ModelError):
        Analyser.from_bytes(fixture_model.comments[:-10], fixture_model.answers)


def test_importing_the_package_loads_nothing_heavy() -> None:
    import subprocess
    import sys

    probe = (
        "import sys; from services.appeals import triage; "
        "print(sorted(m for m in ('pymorphy3', 'razdel', 'services.appeals.triage.analyser') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root)
    assert output.stdout.strip() == "[]"
