"""Labelled data of the triage: the hand-made training set, operator corrections, answers, the held-out dev set."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from services.appeals.labels import KINDS, RUBRICS

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "data" / "triage" / "train"
LEXICON_DIR = ROOT / "data" / "triage" / "lexicons"
MODEL_DIR = ROOT / "data" / "triage" / "model"
ANSWERS = ROOT / "data" / "triage" / "answers.jsonl"
DEV_SET = ROOT.parent / "shared" / "data" / "comments-dev.jsonl"
"""The held-out set (``../shared/data/comments-dev.jsonl`` from the repo): never trained on, never tuned to."""
ANSWER_LABELS = ("real", "otpiska")
ANSWER_FLAGS = ("too_short", "no_greeting", "no_deadline", "no_measures", "template_only")
SPACES = re.compile(r"\s+")


class DataError(ValueError):
    """Labelled data that cannot be used (no file, no line, an unknown label)."""


@dataclass(frozen=True)
class Example:
    """One labelled citizen message."""

    text: str
    kind: str
    rubric: str | None
    priority: str = "normal"
    obscene: bool = False
    source: str = ""

    @property
    def key(self) -> str:
        return text_key(self.text)


@dataclass(frozen=True)
class Answer:
    """One labelled answer of a community."""

    text: str
    label: str
    flags: tuple[str, ...]


def text_key(text: str) -> str:
    """Texts that differ only in case and spacing are the same example."""
    return SPACES.sub(" ", text.strip().lower().replace("ё", "е"))


def _say(message: str) -> None:
    print(message, file=sys.stderr)  # noqa: T201 - data warnings of a command-line tool


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of a JSON-lines file; broken lines are reported and skipped (files grow while read)."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                _say(f"{path.name}:{number}: not JSON, skipped")
                continue
            if isinstance(value, dict):
                yield number, value
            else:
                _say(f"{path.name}:{number}: not an object, skipped")


def example(row: dict[str, Any], where: str) -> Example | None:
    """An ``Example`` of a training row, or ``None`` (reported) when its labels are not the task's."""
    text, kind, rubric = row.get("text"), row.get("kind"), row.get("rubric")
    if not isinstance(text, str) or not text.strip() or kind not in KINDS:
        _say(f"{where}: no text or kind {kind!r} is not one of {', '.join(KINDS)}, skipped")
        return None
    if kind == "appeal" and rubric not in RUBRICS:
        _say(f"{where}: appeal with rubric {rubric!r}, skipped")
        return None
    priority = row.get("priority") or "normal"
    if priority not in ("normal", "urgent"):
        _say(f"{where}: priority {priority!r}, taken as normal")
        priority = "normal"
    return Example(
        text=text,
        kind=kind,
        rubric=rubric if kind == "appeal" else None,
        priority=priority if kind == "appeal" else "normal",
        obscene=bool(row.get("obscene", False)),
        source=str(row.get("source") or ""),
    )


def training_files(train_dir: Path = TRAIN_DIR) -> list[Path]:
    return sorted(train_dir.glob("*.jsonl"))


def load_examples(files: Iterable[Path]) -> list[Example]:
    """Every usable example of ``files``, a text kept once (its first labels; conflicts are reported)."""
    seen: dict[str, Example] = {}
    for path in files:
        for number, row in read_jsonl(path):
            item = example(row, f"{path.name}:{number}")
            if item is None:
                continue
            first = seen.setdefault(item.key, item)
            if first is not item and (first.kind, first.rubric) != (item.kind, item.rubric):
                _say(f"{path.name}:{number}: same text labelled {first.kind}/{first.rubric} before, kept that")
    return list(seen.values())


def merge_labels(examples: list[Example], labels: Path) -> list[Example]:
    """Operator-corrected labels win: a known text takes the corrected fields, a new text is added."""
    by_key = {item.key: item for item in examples}
    added = corrected = 0
    for number, row in read_jsonl(labels):
        key = text_key(str(row.get("text", "")))
        current = by_key.get(key)
        if current is None:
            item = example(row, f"{labels.name}:{number}")
            if item is not None:
                by_key[key] = item
                added += 1
            continue
        merged: dict[str, Any] = dict(asdict(current))
        merged.update({name: row[name] for name in ("kind", "rubric", "priority", "obscene") if name in row})
        item = example(merged, f"{labels.name}:{number}")
        if item is not None and item != current:
            by_key[key] = replace(item, text=current.text)
            corrected += 1
    _say(f"{labels.name}: {corrected} corrected, {added} added")
    return list(by_key.values())


def load_answers(path: Path = ANSWERS) -> list[Answer]:
    """Labelled answers (``real`` or ``otpiska``), each text once."""
    answers: dict[str, Answer] = {}
    if not path.is_file():
        return []
    for number, row in read_jsonl(path):
        text, label, flags = row.get("text"), row.get("label"), row.get("flags") or []
        if not isinstance(text, str) or not text.strip() or label not in ANSWER_LABELS or not isinstance(flags, list):
            _say(f"{path.name}:{number}: needs text, label real|otpiska and a flags list, skipped")
            continue
        answers.setdefault(text_key(text), Answer(text, label, tuple(flag for flag in flags if flag in ANSWER_FLAGS)))
    return list(answers.values())


def load_dev(path: Path = DEV_SET) -> list[Example]:
    """The held-out set, or ``DataError`` when it is absent."""
    if not path.is_file():
        raise DataError(f"held-out set {path} not found")
    examples: list[Example] = []
    for number, row in read_jsonl(path):
        item = example(row, f"{path.name}:{number}")
        if item is not None:
            examples.append(item)
    return examples


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name
