"""``python -m tooling.triage.train [--labels FILE.jsonl]``: rebuild the committed triage weights.

Reads ``data/triage/train/*.jsonl`` (plus operator-corrected labels when given: they win over the training labels
of the same text and add new texts), ``data/triage/lexicons/*.txt`` and ``data/triage/answers.jsonl``; writes
``data/triage/model/{triage,answers}.model`` and ``manifest.json``. The same inputs always give the same files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.appeals.triage.analyser import ANSWERS_MODEL, TRIAGE_MODEL
from tooling.triage.data import (
    ANSWERS,
    LEXICON_DIR,
    MODEL_DIR,
    TRAIN_DIR,
    DataError,
    load_answers,
    load_examples,
    merge_labels,
    training_files,
)
from tooling.triage.fit import Settings, Trained, input_hashes, train

MANIFEST = "manifest.json"


def _say(message: str) -> None:
    print(message, file=sys.stderr)  # noqa: T201 - progress of a command-line tool


def build(
    train_dir: Path = TRAIN_DIR,
    lexicon_dir: Path = LEXICON_DIR,
    answers_path: Path = ANSWERS,
    labels: Path | None = None,
    settings: Settings | None = None,
) -> Trained:
    """Train both models from the files (``DataError`` when there is nothing to train on)."""
    files = training_files(train_dir)
    if not files:
        raise DataError(f"no training files {train_dir}/*.jsonl")
    if labels is not None and not labels.is_file():
        raise DataError(f"labels file {labels} not found")
    examples = load_examples(files)
    if labels is not None:
        examples = merge_labels(examples, labels)
    if len({item.kind for item in examples}) < 2:
        raise DataError(f"{len(examples)} usable examples in {train_dir}: need at least two kinds")
    inputs = input_hashes([*files, *([answers_path] if answers_path.is_file() else [])], lexicon_dir, labels)
    return train(examples, load_answers(answers_path), lexicon_dir, settings or Settings(), inputs, _say)


def write(trained: Trained, out: Path = MODEL_DIR) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / TRIAGE_MODEL).write_bytes(trained.comments)
    (out / ANSWERS_MODEL).write_bytes(trained.answers)
    manifest = json.dumps(trained.manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (out / MANIFEST).write_text(manifest, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.triage.train", description=__doc__)
    parser.add_argument("--labels", type=Path, help="operator-corrected labels (JSON lines: text, kind, rubric, ...)")
    parser.add_argument("--train-dir", type=Path, default=TRAIN_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=Path, default=ANSWERS, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where to write the weights (%(default)s)")
    args = parser.parse_args(argv)
    try:
        trained = build(args.train_dir, LEXICON_DIR, args.answers, args.labels)
    except DataError as error:
        _say(f"train: {error}")
        return 2
    write(trained, args.out)
    manifest = trained.manifest
    _say(
        f"{manifest['version']}: {manifest['examples']} messages, {manifest['answers']} answers,"
        f" {len(manifest['inputs'])} input files -> {args.out}"
        f" (comments {manifest['comments_model']['bytes'] // 1024} KiB,"
        f" answers {manifest['answers_model']['bytes'] // 1024} KiB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
