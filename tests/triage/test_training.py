"""Training is reproducible, the runtime scores as scikit-learn does, and the committed weights match the data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from services.appeals.triage.analyser import ANSWERS_MODEL, TRIAGE_MODEL
from services.appeals.triage.model import decode
from tooling.triage.data import ANSWERS, LEXICON_DIR, MODEL_DIR, TRAIN_DIR, relative, sha256_file, training_files
from tooling.triage.fit import Settings, Trained, input_hashes, version_of
from tooling.triage.train import MANIFEST, build

from .conftest import FIXTURES


def test_same_data_and_seed_give_the_same_bytes(fixture_model: Trained, fixture_settings: Settings) -> None:
    again = build(FIXTURES / "train", LEXICON_DIR, FIXTURES / "answers.jsonl", settings=fixture_settings)
    assert again.comments == fixture_model.comments
    assert again.answers == fixture_model.answers
    assert again.manifest == fixture_model.manifest


def test_version_follows_data_and_settings(fixture_settings: Settings, tmp_path: Path) -> None:
    files = sorted((FIXTURES / "train").glob("*.jsonl"))
    inputs = input_hashes(files, LEXICON_DIR, None)
    assert version_of(inputs, fixture_settings) == version_of(dict(inputs), fixture_settings)
    changed = tmp_path / "more.jsonl"
    changed.write_text('{"text": "x", "kind": "other"}\n', encoding="utf-8")
    assert version_of(input_hashes([*files, changed], LEXICON_DIR, None), fixture_settings) != version_of(
        inputs, fixture_settings
    )
    assert version_of(inputs, Settings(c_kind=1.0)) != version_of(inputs, Settings())


def test_runtime_inference_matches_scikit_learn(fixture_settings: Settings) -> None:
    """Pure-Python scores over the int8 weights agree with the fitted float model's decision function."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from tooling.triage.data import load_examples
    from tooling.triage.fit import comment_groups, compact, compile_lexicons, fit_comments, matrix

    examples = load_examples(training_files(FIXTURES / "train"))
    lexicons = compile_lexicons(LEXICON_DIR, answers=False)
    groups = comment_groups([item.text for item in examples], lexicons, fixture_settings.features)
    model = decode(fit_comments(examples, groups, lexicons, fixture_settings, {"version": "test"}))
    features, _ = compact(matrix(groups, fixture_settings.features))
    reference = LogisticRegression(C=fixture_settings.c_kind, max_iter=5000, class_weight="balanced")
    with threadpool_limits(1):
        reference.fit(features, [item.kind for item in examples])
    expected = reference.decision_function(features)
    head = model.heads["kind"]
    for row, item_groups in enumerate(groups):
        scores = model.scores(item_groups)[head.offset : head.offset + head.width]
        assert list(head.classes) == list(reference.classes_)
        assert np.allclose(scores, expected[row], atol=0.05 + 0.01 * np.abs(expected[row]).max())


def test_committed_weights_match_the_training_data() -> None:
    """The shipped weights were trained on exactly the current data, lexicons and settings (retrain otherwise)."""
    comments = decode((MODEL_DIR / TRIAGE_MODEL).read_bytes())
    answers = decode((MODEL_DIR / ANSWERS_MODEL).read_bytes())
    manifest = json.loads((MODEL_DIR / MANIFEST).read_text(encoding="utf-8"))
    files = [*training_files(TRAIN_DIR), *([ANSWERS] if ANSWERS.is_file() else [])]
    current = input_hashes(files, LEXICON_DIR, None)
    recorded = {name: digest for name, digest in comments.header["inputs"].items() if not name.startswith("labels:")}
    stale = sorted(name for name in set(current) | set(recorded) if current.get(name) != recorded.get(name))
    assert not stale, f"weights are stale for {stale}: run `make train-triage`"
    labels = {name: digest for name, digest in comments.header["inputs"].items() if name.startswith("labels:")}
    assert comments.version == version_of({**current, **labels}, Settings())
    assert answers.version == comments.version == manifest["version"]
    assert manifest["comments_model"]["sha256"] == sha256_file(MODEL_DIR / TRIAGE_MODEL)
    assert manifest["answers_model"]["sha256"] == sha256_file(MODEL_DIR / ANSWERS_MODEL)
    assert relative(MODEL_DIR / TRIAGE_MODEL) == "data/triage/model/triage.model"


@pytest.mark.skipif(not os.environ.get("TRIAGE_RETRAIN"), reason="set TRIAGE_RETRAIN=1 (retrains, minutes)")
def test_a_fresh_training_run_reproduces_the_committed_weights() -> None:
    fresh = build()
    assert fresh.comments == (MODEL_DIR / TRIAGE_MODEL).read_bytes()
    assert fresh.answers == (MODEL_DIR / ANSWERS_MODEL).read_bytes()


def test_operator_labels_correct_and_add(tmp_path: Path) -> None:
    from tooling.triage.data import load_examples, merge_labels

    examples = load_examples(training_files(FIXTURES / "train"))
    labels = tmp_path / "labels.jsonl"
    rows = [
        {"text": "  спасибо ДОРОЖНИКАМ за новый асфальт! ", "kind": "appeal", "rubric": "roads_transport"},
        {"text": "Новый текст от оператора", "kind": "spam"},
        {"text": "Без вида"},
    ]
    labels.write_text("\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\nnot json\n", "utf-8")
    merged = {item.key: item for item in merge_labels(examples, labels)}
    assert len(merged) == len(examples) + 1
    corrected = merged["спасибо дорожникам за новый асфальт!"]
    assert (corrected.kind, corrected.rubric, corrected.text) == (
        "appeal",
        "roads_transport",
        "Спасибо дорожникам за новый асфальт!",
    )
    assert merged["новый текст от оператора"].kind == "spam"
