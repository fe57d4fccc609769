"""The weights file: round trip, quantisation, big-integer row sums past the read-out chunk, damage detection."""

from __future__ import annotations

import pytest

from services.appeals.triage.model import CHUNK, ModelError, decode, encode

HEADER = {"version": "test", "heads": [{"name": "h", "classes": ["a", "b", "c"], "offset": 0, "bias": [0.5, 0, -1]}]}
ROWS = {1: [1.0, -0.5, 0.0], 3: [0.25, 0.125, -2.0], 15: [-1.0, 0.0, 2.0]}


def test_round_trip_and_quantised_scores() -> None:
    model = decode(encode(HEADER, 4, ROWS, 3))
    assert model.rows == 3 and model.version == "test"
    scores = model.scores([(1.0, [1, 3]), (0.5, [15, 2])])  # feature 2 never occurred: no row
    expected = [0.5 + 1.0 + 0.25 - 0.5, -0.5 + 0.125, -1 - 2.0 + 1.0]
    assert scores == pytest.approx(expected, abs=0.02)
    probabilities = model.predict([(1.0, [1])])["h"]
    assert set(probabilities) == {"a", "b", "c"} and sum(probabilities.values()) == pytest.approx(1.0)


def test_many_repeated_features_do_not_overflow() -> None:
    model = decode(encode(HEADER, 4, ROWS, 3))
    ids = [15] * (3 * CHUNK + 7) + [1] * 5
    scores = model.scores([(1.0, ids)])
    assert scores == pytest.approx([0.5 - (3 * CHUNK + 7) + 5, -2.5, -1 + 2 * (3 * CHUNK + 7)], rel=1e-3)


def test_binary_head_is_one_logit() -> None:
    header = {"version": "t", "heads": [{"name": "p", "classes": ["normal", "urgent"], "offset": 0, "bias": [0.0]}]}
    model = decode(encode(header, 2, {0: [3.0]}, 1))
    assert model.predict([(1.0, [0])])["p"]["urgent"] == pytest.approx(0.9526, abs=1e-3)
    assert model.predict([(1.0, [1])])["p"]["urgent"] == pytest.approx(0.5)


def test_encoding_is_deterministic_and_damage_is_refused() -> None:
    data = encode(HEADER, 4, ROWS, 3)
    assert data == encode(HEADER, 4, dict(reversed(ROWS.items())), 3)
    with pytest.raises(ModelError, match="CRC"):
        decode(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ModelError):
        decode(data[:20])
    with pytest.raises(ModelError):
        encode(HEADER, 2, {9: [0.0, 0.0, 0.0]}, 3)
