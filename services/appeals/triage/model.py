"""The weights file: linear heads over hashed features, read with the standard library only (no numpy).

Layout (little-endian)::

    b"GPHLIN2\\n" | uint32 header length | header (JSON, UTF-8, space-padded to 4 bytes)
    | int32 index[2**bits] | int8 weights[rows, columns]

``index[feature]`` is the offset of the feature's row in ``weights`` (-1: the feature never occurred in training),
so loading is two ``frombytes`` and no Python loop. A row holds one weight per column, the columns being the heads'
classes side by side (a binary head has one column: the logit of its second class). Weights are quantised per
column: ``weight = int8 * scales[column]`` (at most 1/254 of the column's largest weight off). The header carries the
version, the feature configuration and compiled lexicons the weights were fitted with, the heads with their biases,
the column scales and a CRC-32 of the two arrays, checked on load.

Scoring adds rows as Python integers: on load each int8 becomes a 16-bit field holding ``weight + 128``, so a row is
one ``int.from_bytes`` and summing a feature is one big-integer addition instead of a loop over the columns (ten
times faster in CPython); every ``CHUNK`` rows the fields are read out, before they could overflow.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import zlib
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.appeals.triage.features import Groups

MAGIC = b"GPHLIN2\n"
FORMAT = 2
QUANT = 127
OFFSET = 128
CHUNK = 256
"""Rows summed before the 16-bit fields are read out: 256 * 255 < 2**16."""
FIELD = 16
TO_OFFSET = bytes((byte + OFFSET) & 0xFF for byte in range(256))
"""int8 (two's complement) byte -> the same value plus 128 as an unsigned byte"""


class ModelError(ValueError):
    """The weights file is missing, truncated, altered or of another format."""


@dataclass(frozen=True)
class Head:
    """One classifier over the shared features: ``classes`` and the columns holding their weights."""

    name: str
    classes: tuple[str, ...]
    offset: int
    bias: tuple[float, ...]

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2 and len(self.bias) == 1

    @property
    def width(self) -> int:
        return len(self.bias)

    def probabilities(self, scores: Sequence[float]) -> dict[str, float]:
        """Class probabilities from the model's raw column scores (softmax, or the sigmoid of a binary head)."""
        own = scores[self.offset : self.offset + self.width]
        if self.binary:
            positive = _sigmoid(own[0])
            return {self.classes[0]: 1.0 - positive, self.classes[1]: positive}
        top = max(own)
        exps = [math.exp(score - top) for score in own]
        total = sum(exps)
        return {name: value / total for name, value in zip(self.classes, exps, strict=True)}


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


class LinearModel:
    """Heads sharing one sparse weight matrix, scored in pure Python."""

    def __init__(self, header: Mapping[str, Any], index: array[int], weights: bytes) -> None:
        self.header = dict(header)
        self.version: str = header["version"]
        self.heads = {
            head["name"]: Head(head["name"], tuple(head["classes"]), int(head["offset"]), tuple(head["bias"]))
            for head in header["heads"]
        }
        self.columns = sum(head.width for head in self.heads.values())
        self.scales: list[float] = [float(scale) for scale in header["scales"]]
        if len(self.scales) != self.columns or len(weights) != int(header["rows"]) * self.columns:
            raise ModelError(f"{len(weights)} weights for {header['rows']} rows of {self.columns} columns")
        self._index = index
        spread = bytearray(2 * len(weights))
        spread[0::2] = weights.translate(TO_OFFSET)  # little-endian uint16 fields: weight + 128, then a zero byte
        self._fields = bytes(spread)
        self._rows = len(weights) // self.columns if self.columns else 0
        self._bias = [0.0] * self.columns
        for head in self.heads.values():
            self._bias[head.offset : head.offset + head.width] = head.bias

    @property
    def rows(self) -> int:
        return self._rows

    def _read_out(self, total: int, count: int, into: list[int]) -> None:
        mask = (1 << FIELD) - 1
        for column in range(self.columns):
            into[column] += ((total >> (FIELD * column)) & mask) - OFFSET * count

    def scores(self, groups: Groups) -> list[float]:
        """Raw column scores: bias plus, per group, the group's value times the sum of its features' rows."""
        width = 2 * self.columns
        fields = self._fields
        index = self._index
        from_bytes = int.from_bytes
        mixed = [0.0] * self.columns
        for value, ids in groups:
            summed = [0] * self.columns
            total = count = 0
            for feature in ids:
                start = index[feature]
                if start >= 0:
                    start <<= 1
                    total += from_bytes(fields[start : start + width], "little")
                    count += 1
                    if count == CHUNK:
                        self._read_out(total, count, summed)
                        total = count = 0
            if count:
                self._read_out(total, count, summed)
            mixed = [current + value * part for current, part in zip(mixed, summed, strict=True)]
        return [bias + scale * part for bias, scale, part in zip(self._bias, self.scales, mixed, strict=True)]

    def predict(self, groups: Groups) -> dict[str, dict[str, float]]:
        """Per head, the class probabilities."""
        scores = self.scores(groups)
        return {name: head.probabilities(scores) for name, head in self.heads.items()}


def _little(values: array[Any]) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array(values.typecode, values)
    swapped.byteswap()
    return swapped.tobytes()


def encode(header: Mapping[str, Any], bits: int, rows: Mapping[int, Sequence[float]], columns: int) -> bytes:
    """The file's bytes for float weight ``rows`` by feature id; ``header`` gets the format, scales and checksum."""
    scales = []
    for column in range(columns):
        largest = max((abs(row[column]) for row in rows.values()), default=0.0)
        scales.append(largest / QUANT if largest > 0 else 1.0)
    index = array("i", [-1]) * (1 << bits)
    weights = array("b")
    for feature in sorted(rows):
        if not 0 <= feature < len(index):
            raise ModelError(f"feature id {feature} outside 2**{bits}")
        index[feature] = len(weights)
        weights.extend(
            max(-QUANT, min(QUANT, round(value / scale))) for value, scale in zip(rows[feature], scales, strict=True)
        )
    arrays = _little(index) + weights.tobytes()
    full = {
        **header,
        "format": FORMAT,
        "bits": bits,
        "rows": len(rows),
        "scales": scales,
        "crc32": zlib.crc32(arrays),
    }
    text = json.dumps(full, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-(len(MAGIC) + 4 + len(text)) % 4)
    return MAGIC + struct.pack("<I", len(text)) + text + arrays


def decode(data: bytes) -> LinearModel:
    """A model from the file's bytes (``ModelError`` when they are not a complete, unaltered weights file)."""
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise ModelError("not a Gospubliki linear model file (or an older format: retrain)")
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4 + length
    try:
        header = json.loads(data[len(MAGIC) + 4 : start])
    except ValueError as error:
        raise ModelError(f"unreadable model header: {error}") from error
    if header.get("format") != FORMAT:
        raise ModelError(f"model format {header.get('format')!r}, this code reads {FORMAT}")
    if zlib.crc32(data[start:]) != header["crc32"]:
        raise ModelError("weights do not match the header's CRC-32 (truncated or altered file)")
    size = 4 << int(header["bits"])
    index = array("i")
    index.frombytes(data[start : start + size])
    if sys.byteorder != "little":
        index.byteswap()
    return LinearModel(header, index, data[start + size :])


def load(path: Path) -> LinearModel:
    try:
        return decode(path.read_bytes())
    except OSError as error:
        raise ModelError(f"cannot read the model {path}: {error}") from error
