"""Fitting: features from the runtime's own code, logistic-regression heads (scikit-learn), the weights file.

Features do not depend on the training data (hashing + fixed lexicons), so a data set is featurised once and
cross-validation only refits. Everything is deterministic: lbfgs has no randomness, folds use a fixed seed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sklearn  # type: ignore[import-untyped]
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from services.appeals.triage.analyser import Analyser
from services.appeals.triage.answers import FLAGS, feature_flags, rule_flags
from services.appeals.triage.features import FeatureConfig, Groups, extract
from services.appeals.triage.lexicons import Lexicons
from services.appeals.triage.model import FORMAT, decode, encode
from services.appeals.triage.obscene import is_obscene
from services.appeals.triage.text import normal_forms, parse_forms, prepare
from tooling.triage.data import Answer, Example, relative, sha256_file

TRAINER_REVISION = 1
"""Bump when fitting changes in a way the settings below do not show (it is part of the version)."""
ANSWER_LEXICON_PREFIX = "answer_"


@dataclass(frozen=True)
class Settings:
    """Everything besides the data that decides the weights (part of the version hash)."""

    features: FeatureConfig = field(default_factory=FeatureConfig)
    answer_features: FeatureConfig = field(
        default_factory=lambda: FeatureConfig(
            bits=16, char_ngrams=(3, 4), scales={"w": 1.0, "b": 0.6, "c": 1.0, "x": 0.5}
        )
    )
    c_kind: float = 16.0
    c_rubric: float = 16.0
    c_priority: float = 4.0
    c_quality: float = 2.0
    class_weight: str | None = "balanced"
    max_iter: int = 5000
    seed: int = 20261129

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["features"] = self.features.to_json()
        data["answer_features"] = self.answer_features.to_json()
        data["trainer_revision"] = TRAINER_REVISION
        return data


@dataclass(frozen=True)
class HeadFit:
    name: str
    classes: tuple[str, ...]
    coef: np.ndarray[Any, np.dtype[np.float64]]
    """(columns, features): one row per class, or one row (the second class's logit) for a binary head"""
    intercept: tuple[float, ...]


def lexicon_sources(folder: Path, answers: bool) -> dict[str, list[str]]:
    """The lexicon files of the comments model (``answers=False``) or of the answers model, by name."""
    sources: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.txt")):
        if path.stem.startswith(ANSWER_LEXICON_PREFIX) == answers:
            sources[path.stem] = path.read_text(encoding="utf-8").splitlines()
    return sources


def compile_lexicons(folder: Path, answers: bool) -> Lexicons:
    return Lexicons.compile(lexicon_sources(folder, answers), normal_forms)


def input_hashes(files: Sequence[Path], lexicon_folder: Path, labels: Path | None) -> dict[str, str]:
    """SHA-256 of every input file, by repo-relative path (``labels:NAME`` for operator corrections)."""
    hashes = {relative(path): sha256_file(path) for path in files}
    hashes.update({relative(path): sha256_file(path) for path in sorted(lexicon_folder.glob("*.txt"))})
    if labels is not None:
        hashes[f"labels:{labels.name}"] = sha256_file(labels)
    return dict(sorted(hashes.items()))


def version_of(inputs: Mapping[str, str], settings: Settings) -> str:
    """``triage-<12 hex>``: a hash of the inputs and the settings, so the same data gives the same version."""
    blob = json.dumps({"inputs": inputs, "settings": settings.to_json(), "format": FORMAT}, sort_keys=True).encode()
    return "triage-" + hashlib.sha256(blob).hexdigest()[:12]


def vocabulary(texts: Sequence[str]) -> dict[str, list[str]]:
    """Every word of ``texts`` with its normal forms, as the analyser parses them (shipped to skip the parse)."""
    words: dict[str, list[str]] = {}
    for text in texts:
        prepared = prepare(text)
        for word in prepared.words:
            if word not in words:
                words[word] = list(parse_forms(word))
    return dict(sorted(words.items()))


def comment_groups(texts: Sequence[str], lexicons: Lexicons, config: FeatureConfig) -> list[Groups]:
    """Features of citizens' messages, as the runtime computes them."""
    groups = []
    for text in texts:
        prepared = prepare(text)
        groups.append(extract(prepared, lexicons, is_obscene(prepared.lowered, prepared.lemmas), config))
    return groups


def answer_groups(texts: Sequence[str], lexicons: Lexicons, config: FeatureConfig) -> list[Groups]:
    """Features of answers, with their rule flags, as the runtime computes them."""
    groups = []
    for text in texts:
        prepared = prepare(text)
        extra = feature_flags(prepared, rule_flags(prepared, lexicons))
        groups.append(extract(prepared, lexicons, False, config, extra))
    return groups


def matrix(groups: Sequence[Groups], config: FeatureConfig) -> csr_matrix:
    """The sparse design matrix (duplicate ids within a row add up, as in the runtime's sums)."""
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for row in groups:
        for value, ids in row:
            indices.extend(ids)
            data.extend([value] * len(ids))
        indptr.append(len(indices))
    built = csr_matrix((np.array(data), np.array(indices), np.array(indptr)), shape=(len(groups), config.size))
    built.sum_duplicates()
    return built


def fit_head(
    name: str, features: csr_matrix, labels: Sequence[str], c: float, settings: Settings, classes: Sequence[str]
) -> HeadFit:
    """A logistic regression (multinomial for more than two classes) of ``labels`` on ``features``."""
    present = sorted(set(labels))
    if len(present) < 2:  # one class only: a constant head
        if len(classes) == 2:
            logit = 10.0 if present == [classes[1]] else -10.0
            return HeadFit(name, tuple(classes), np.zeros((1, features.shape[1])), (logit,))
        return HeadFit(name, tuple(present), np.zeros((1, features.shape[1])), (0.0,))
    model = LogisticRegression(C=c, max_iter=settings.max_iter, class_weight=settings.class_weight)
    with threadpool_limits(1):  # one BLAS thread: reproducible sums, and 10x faster than 2 threads on a busy box
        model.fit(features, list(labels))
    found = tuple(str(label) for label in model.classes_)
    if len(found) == 2 and len(classes) == 2 and found != tuple(classes):
        raise ValueError(f"binary head {name}: classes {found}, expected {tuple(classes)}")
    return HeadFit(name, found, model.coef_, tuple(float(value) for value in model.intercept_))


def assemble(
    heads: Sequence[HeadFit], ids: np.ndarray[Any, np.dtype[np.int64]], bits: int, header: Mapping[str, Any]
) -> bytes:
    """The weights file of ``heads`` fitted on the feature columns ``ids``, one row per id."""
    columns = np.vstack([head.coef for head in heads]).T
    described = []
    offset = 0
    for head in heads:
        bias = [float(value) for value in head.intercept]
        described.append({"name": head.name, "classes": list(head.classes), "offset": offset, "bias": bias})
        offset += head.coef.shape[0]
    rows = {int(feature): row.tolist() for feature, row in zip(ids, columns, strict=True)}
    return encode({**header, "heads": described}, bits, rows, offset)


def compact(features: csr_matrix) -> tuple[csr_matrix, np.ndarray[Any, np.dtype[np.int64]]]:
    """Only the columns of features that occur (lbfgs then works on thousands of weights, not 2**bits)."""
    ids = np.flatnonzero(features.getnnz(axis=0) > 0)
    return features[:, ids].tocsr(), ids


def fit_comments(
    examples: Sequence[Example],
    groups: Sequence[Groups],
    lexicons: Lexicons,
    settings: Settings,
    about: Mapping[str, Any],
) -> bytes:
    """The comments model (heads ``kind``, ``rubric``, ``priority``) of ``examples`` with their features."""
    from services.appeals.labels import KINDS, RUBRICS

    features, ids = compact(matrix(groups, settings.features))
    appeals = [index for index, item in enumerate(examples) if item.kind == "appeal"]
    heads = [
        fit_head("kind", features, [item.kind for item in examples], settings.c_kind, settings, KINDS),
        fit_head(
            "rubric",
            features[appeals],
            [str(examples[i].rubric) for i in appeals],
            settings.c_rubric,
            settings,
            RUBRICS,
        ),
        fit_head(
            "priority",
            features[appeals],
            [examples[i].priority for i in appeals],
            settings.c_priority,
            settings,
            ("normal", "urgent"),
        ),
    ]
    header = {**about, "features": settings.features.to_json(), "lexicons": lexicons.to_json()}
    return assemble(heads, ids, settings.features.bits, header)


def fit_answers(
    answers: Sequence[Answer],
    groups: Sequence[Groups],
    lexicons: Lexicons,
    settings: Settings,
    about: Mapping[str, Any],
) -> bytes:
    """The answers model (head ``quality``: ``otpiska`` / ``real``); rules-only priors when there is no data."""
    config = settings.answer_features
    header = {**about, "features": config.to_json(), "lexicons": lexicons.to_json()}
    if len({answer.label for answer in answers}) < 2:
        # No labelled answers yet: each rule flag lowers the odds of a real answer by a fixed step.
        from services.appeals.triage.features import feature_id

        flag_ids = np.array(sorted({feature_id(f"x:flag:{flag}", config.bits) for flag in FLAGS}), dtype=np.int64)
        coef = np.full((1, len(flag_ids)), -1.2 / config.scales["x"])
        head = HeadFit("quality", ("otpiska", "real"), coef, (2.0,))
        return assemble([head], flag_ids, config.bits, {**header, "rules_only": True})
    features, ids = compact(matrix(groups, config))
    labels = [answer.label for answer in answers]
    heads = [fit_head("quality", features, labels, settings.c_quality, settings, ("otpiska", "real"))]
    for flag in FLAGS:
        marked = ["yes" if flag in answer.flags else "no" for answer in answers]
        if len(set(marked)) == 2:  # otherwise the rule decides the flag at run time
            heads.append(fit_head(flag, features, marked, settings.c_quality, settings, ("no", "yes")))
    return assemble(heads, ids, config.bits, header)


@dataclass
class Trained:
    comments: bytes
    answers: bytes
    manifest: dict[str, Any]

    def analyser(self) -> Analyser:
        return Analyser.from_bytes(self.comments, self.answers)


def train(
    examples: Sequence[Example],
    answers: Sequence[Answer],
    lexicon_folder: Path,
    settings: Settings,
    inputs: Mapping[str, str],
    progress: Callable[[str], None] = lambda _: None,
) -> Trained:
    """Both weights files from the data, and a manifest describing them."""
    version = version_of(inputs, settings)
    lexicons = compile_lexicons(lexicon_folder, answers=False)
    answer_lexicons = compile_lexicons(lexicon_folder, answers=True)
    progress(f"featurising {len(examples)} messages and {len(answers)} answers")
    groups = comment_groups([item.text for item in examples], lexicons, settings.features)
    answer_features = answer_groups([answer.text for answer in answers], answer_lexicons, settings.answer_features)
    progress("fitting")
    about = {"version": version, "inputs": dict(inputs), "settings": settings.to_json()}
    words = vocabulary([item.text for item in examples])
    comments_bytes = fit_comments(examples, groups, lexicons, settings, {**about, "vocabulary": words})
    answers_bytes = fit_answers(answers, answer_features, answer_lexicons, settings, about)
    comments, answer_model = decode(comments_bytes), decode(answers_bytes)
    manifest = {
        "version": version,
        "inputs": dict(inputs),
        "settings": settings.to_json(),
        "scikit_learn": sklearn.__version__,
        "examples": len(examples),
        "answers": len(answers),
        "comments_model": {"rows": comments.rows, "bytes": len(comments_bytes), "sha256": _sha(comments_bytes)},
        "answers_model": {"rows": answer_model.rows, "bytes": len(answers_bytes), "sha256": _sha(answers_bytes)},
    }
    return Trained(comments_bytes, answers_bytes, manifest)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
