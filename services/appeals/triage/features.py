"""Hashed sparse features of a message, computed the same way at training time and in the Lambda.

A message becomes a few groups of feature ids (the hashing trick: ``crc32(name) mod 2**bits``), every feature of a
group having the same value ``scale / sqrt(len(group))`` (``x`` flags: ``scale``), so a long message does not
outweigh a short one:

- ``w``: lemma unigrams, every parse's normal form of every word;
- ``b``: bigrams of the most probable normal forms;
- ``c``: character n-grams of the words (``<яма>`` gives ``<ям``, ``ама``, ``ма>``, ...), which carry typos,
  unknown words and word endings;
- ``x``: flags - lexicon hits, URLs and phones, question and exclamation marks, emoji, length, caps, мат.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from services.appeals.triage.lexicons import Lexicons
from services.appeals.triage.text import Prepared

QUESTION_WORDS = frozenset(
    " ".join(
        ("когда почему зачем где куда откуда как сколько кто", "что какой чей ли разве неужели можно будет")
    ).split()
)
LENGTHS = ((0, "0"), (1, "1"), (2, "2"), (5, "3-5"), (10, "6-10"), (20, "11-20"), (40, "21-40"))
UPPER = re.compile(r"[A-ZА-ЯЁ]")
LOWER = re.compile(r"[a-zа-яё]")

Groups = list[tuple[float, list[int]]]
"""(value of every feature in the group, feature ids; an id may repeat and then counts twice)"""


@dataclass(frozen=True)
class FeatureConfig:
    """How a message is hashed; stored in the model so that the runtime hashes as training did."""

    bits: int = 18
    char_ngrams: tuple[int, ...] = (3, 4, 5)
    scales: Mapping[str, float] = field(default_factory=lambda: {"w": 1.0, "b": 0.6, "c": 1.0, "x": 0.25})
    """Group values; chosen by 5-fold cross-validation on the training set (never on the held-out set)."""

    @property
    def size(self) -> int:
        return 1 << self.bits

    def to_json(self) -> dict[str, Any]:
        return {"bits": self.bits, "char_ngrams": list(self.char_ngrams), "scales": dict(sorted(self.scales.items()))}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FeatureConfig:
        return cls(bits=int(data["bits"]), char_ngrams=tuple(data["char_ngrams"]), scales=dict(data["scales"]))


def feature_id(name: str, bits: int) -> int:
    """The hashed id of a feature name (stable across processes and machines, unlike ``hash``)."""
    return zlib.crc32(name.encode()) & ((1 << bits) - 1)


@lru_cache(maxsize=65536)
def _char_ids(word: str, ngrams: tuple[int, ...], bits: int) -> tuple[int, ...]:
    padded = f"<{word}>"
    mask = (1 << bits) - 1
    return tuple(
        zlib.crc32(("c:" + padded[start : start + n]).encode()) & mask
        for n in ngrams
        for start in range(len(padded) - n + 1)
    )


@lru_cache(maxsize=65536)
def _lemma_ids(forms: tuple[str, ...], bits: int) -> tuple[int, ...]:
    return tuple(feature_id("w:" + form, bits) for form in forms)


def flags(prepared: Prepared, lexicons: Lexicons, obscene: bool) -> list[str]:
    """Names of the ``x`` flags of a message."""
    raw = prepared.raw
    names = [f"sig:{signal}" for signal in sorted(prepared.signals)]
    words = len(prepared.words)
    names.append("len:" + next((label for limit, label in LENGTHS if words <= limit), "41+"))
    if "?" in raw:
        names.append("question")
    if prepared.words and prepared.lemmas[0][0] in QUESTION_WORDS:
        names.append("starts_question_word")
    if "!" in raw:
        names.append("exclaim")
    if "!!!" in raw or "?!" in raw:
        names.append("exclaim_many")
    if prepared.emoji:
        names.append("emoji")
        if not prepared.words:
            names.append("emoji_only")
    if not prepared.words:
        names.append("no_words")
    if any(char.isdigit() for char in raw):
        names.append("digits")
    upper = len(UPPER.findall(raw))
    if upper >= 8 and upper > 1.5 * len(LOWER.findall(raw)):
        names.append("caps")
    if obscene:
        names.append("obscene")
    for name, count in zip(lexicons.names, lexicons.hits(prepared.lemmas), strict=True):
        if count:
            names.append(f"lex:{name}")
            if count > 1:
                names.append(f"lex:{name}:2")
    return names


def extract(
    prepared: Prepared, lexicons: Lexicons, obscene: bool, config: FeatureConfig, extra_flags: Sequence[str] = ()
) -> Groups:
    """The feature groups of one message (``extra_flags``: more ``x`` flags the caller derived by rules)."""
    bits = config.bits
    lemma_ids: list[int] = []
    for forms in prepared.lemmas:
        lemma_ids.extend(_lemma_ids(forms, bits))
    firsts = [forms[0] for forms in prepared.lemmas]
    bigram_ids = [feature_id(f"b:{left} {right}", bits) for left, right in zip(firsts, firsts[1:], strict=False)]
    char_ids: list[int] = []
    for word in prepared.words:
        char_ids.extend(_char_ids(word, config.char_ngrams, bits))
    flag_ids = [feature_id("x:" + name, bits) for name in [*flags(prepared, lexicons, obscene), *extra_flags]]
    groups: Groups = []
    for name, ids in (("w", lemma_ids), ("b", bigram_ids), ("c", char_ids)):
        if ids:
            groups.append((config.scales[name] / math.sqrt(len(ids)), ids))
    groups.append((config.scales["x"], flag_ids))
    return groups
