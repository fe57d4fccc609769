"""``python -m tooling.triage.evaluate``: how good the triage is, on data it was not trained on.

1. The committed weights on the held-out set ``../shared/data/comments-dev.jsonl`` (skipped, with a message, when
   absent; any held-out text that also occurs in the training data is left out of the score and reported).
2. Beside it, 5-fold cross-validation on the training set: each fold is scored by a model fitted on the other four,
   through the same pure-Python inference the Lambda runs.
3. The answer-quality model: 5-fold cross-validated accuracy on ``data/triage/answers.jsonl``, and how often each
   rule flag agrees with the labelled flags.

Goals: appeal-vs-not F1 >= 0.92, rubric top-1 >= 0.85 on true appeals, 5-class macro-F1 >= 0.85.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

from services.appeals.labels import KINDS, RUBRICS
from services.appeals.triage.analyser import ANSWERS_MODEL, TRIAGE_MODEL, Analyser
from services.appeals.triage.answers import rule_flags
from services.appeals.triage.features import Groups
from services.appeals.triage.model import LinearModel, decode
from services.appeals.triage.obscene import is_obscene
from services.appeals.triage.text import prepare
from tooling.triage.data import (
    ANSWER_FLAGS,
    ANSWERS,
    DEV_SET,
    LEXICON_DIR,
    MODEL_DIR,
    TRAIN_DIR,
    Answer,
    DataError,
    Example,
    load_answers,
    load_dev,
    load_examples,
    merge_labels,
    relative,
    training_files,
)
from tooling.triage.fit import (
    Settings,
    answer_groups,
    comment_groups,
    compile_lexicons,
    fit_answers,
    fit_comments,
)

GOALS = {"appeal-vs-not F1": 0.92, "rubric top-1 (true appeals)": 0.85, "5-class macro-F1": 0.85}
FOLDS = 5


def _out(line: str = "") -> None:
    print(line)  # noqa: T201 - the evaluation report is this command's output


@dataclass(frozen=True)
class Prediction:
    kind: str
    rubric: str
    """the rubric head's top class, whatever the kind"""
    urgent: float


def predict(model: LinearModel, groups: Groups) -> Prediction:
    heads = model.predict(groups)
    kinds, rubrics = heads["kind"], heads["rubric"]
    return Prediction(
        kind=max(KINDS, key=lambda name: kinds.get(name, 0.0)),
        rubric=max(RUBRICS, key=lambda name: rubrics.get(name, 0.0)),
        urgent=heads["priority"]["urgent"],
    )


def prf(true: Sequence[str], predicted: Sequence[str], label: str) -> tuple[float, float, float, int]:
    """Precision, recall, F1 and support of ``label``."""
    hits = sum(1 for t, p in zip(true, predicted, strict=True) if t == p == label)
    claimed = sum(1 for p in predicted if p == label)
    support = sum(1 for t in true if t == label)
    precision = hits / claimed if claimed else 0.0
    recall = hits / support if support else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, support


@dataclass(frozen=True)
class Scores:
    appeal_f1: float
    macro_f1: float
    rubric_top1: float
    end_to_end: float
    urgent_f1: float | None
    lines: list[str]

    def headline(self) -> dict[str, float]:
        return {
            "appeal-vs-not F1": self.appeal_f1,
            "rubric top-1 (true appeals)": self.rubric_top1,
            "5-class macro-F1": self.macro_f1,
        }


def score(examples: Sequence[Example], predictions: Sequence[Prediction], with_priority: bool) -> Scores:
    """Per-class precision/recall/F1, the confusion matrix and the headline figures."""
    true = [item.kind for item in examples]
    predicted = [prediction.kind for prediction in predictions]
    lines = [f"  {'kind':10} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}"]
    f1s = []
    for kind in KINDS:
        precision, recall, f1, support = prf(true, predicted, kind)
        f1s.append(f1)
        lines.append(f"  {kind:10} {precision:9.3f} {recall:7.3f} {f1:6.3f} {support:8d}")
    lines.append("  confusion (rows: true, columns: predicted)")
    lines.append("  " + " " * 10 + "".join(f"{kind[:9]:>10}" for kind in KINDS))
    for row in KINDS:
        counts = [sum(1 for t, p in zip(true, predicted, strict=True) if t == row and p == col) for col in KINDS]
        lines.append(f"  {row:10}" + "".join(f"{count:10d}" for count in counts))
    binary_true = ["appeal" if kind == "appeal" else "not" for kind in true]
    binary_predicted = ["appeal" if kind == "appeal" else "not" for kind in predicted]
    appeal_f1 = prf(binary_true, binary_predicted, "appeal")[2]
    appeals = [index for index, item in enumerate(examples) if item.kind == "appeal"]
    right = [index for index in appeals if predictions[index].rubric == examples[index].rubric]
    end_to_end = [index for index in right if predictions[index].kind == "appeal"]
    urgent_f1 = None
    if with_priority and appeals:
        urgent_true = [examples[index].priority for index in appeals]
        urgent_predicted = ["urgent" if predictions[index].urgent >= 0.5 else "normal" for index in appeals]
        urgent_f1 = prf(urgent_true, urgent_predicted, "urgent")[2]
    rubric_lines = [f"  {'rubric':18} {'top-1':>6} {'of':>4}"]
    for rubric in RUBRICS:
        members = [index for index in appeals if examples[index].rubric == rubric]
        if members:
            correct = sum(1 for index in members if predictions[index].rubric == rubric)
            rubric_lines.append(f"  {rubric:18} {correct / len(members):6.3f} {len(members):4d}")
    return Scores(
        appeal_f1=appeal_f1,
        macro_f1=sum(f1s) / len(f1s),
        rubric_top1=len(right) / len(appeals) if appeals else 0.0,
        end_to_end=len(end_to_end) / len(appeals) if appeals else 0.0,
        urgent_f1=urgent_f1,
        lines=lines + rubric_lines,
    )


def show(title: str, scores: Scores) -> None:
    _out(title)
    for line in scores.lines:
        _out(line)
    for name, value in scores.headline().items():
        verdict = "ok" if value >= GOALS[name] else "BELOW GOAL"
        _out(f"  {name:30} {value:.3f}   goal >= {GOALS[name]:.2f} {verdict}")
    _out(f"  {'appeal with the right rubric':30} {scores.end_to_end:.3f}   (kind and rubric both right)")
    if scores.urgent_f1 is not None:
        _out(f"  {'urgent F1 (true appeals)':30} {scores.urgent_f1:.3f}")
    _out()


def folds(labels: Sequence[str], seed: int) -> list[tuple[list[int], list[int]]]:
    """Stratified 5-fold splits (fixed seed); strata too small for 5 folds fall back to their kind."""
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    indexes = list(range(len(labels)))
    return [(list(train), list(test)) for train, test in splitter.split(indexes, labels)]


def strata(examples: Sequence[Example]) -> list[str]:
    combined = [f"{item.kind}:{item.rubric}" for item in examples]
    counts = {label: combined.count(label) for label in set(combined)}
    return [label if counts[label] >= FOLDS else label.split(":")[0] for label in combined]


def cross_validate(examples: Sequence[Example], settings: Settings, say: Callable[[str], None]) -> Scores:
    """Each example predicted by a model fitted without its fold."""
    lexicons = compile_lexicons(LEXICON_DIR, answers=False)
    say(f"featurising {len(examples)} training messages")
    groups = comment_groups([item.text for item in examples], lexicons, settings.features)
    predictions: list[Prediction | None] = [None] * len(examples)
    for number, (train, test) in enumerate(folds(strata(examples), settings.seed), 1):
        say(f"fold {number}/{FOLDS}")
        model = decode(
            fit_comments(
                [examples[i] for i in train], [groups[i] for i in train], lexicons, settings, {"version": "cv"}
            )
        )
        for index in test:
            predictions[index] = predict(model, groups[index])
    return score(examples, [prediction for prediction in predictions if prediction is not None], with_priority=True)


def cross_validate_answers(
    answers: Sequence[Answer], settings: Settings
) -> tuple[float, dict[str, float], dict[str, float]]:
    """5-fold accuracy of real/otpiska and of each flag (as ``rate_answer`` decides it), and each bare rule's."""
    lexicons = compile_lexicons(LEXICON_DIR, answers=True)
    groups = answer_groups([answer.text for answer in answers], lexicons, settings.answer_features)
    rules = [set(rule_flags(prepare(answer.text), lexicons)) for answer in answers]
    correct = 0
    flag_correct = dict.fromkeys(ANSWER_FLAGS, 0)
    for train, test in folds([answer.label for answer in answers], settings.seed):
        model = decode(
            fit_answers([answers[i] for i in train], [groups[i] for i in train], lexicons, settings, {"version": "cv"})
        )
        for index in test:
            heads = model.predict(groups[index])
            correct += ("real" if heads["quality"]["real"] >= 0.5 else "otpiska") == answers[index].label
            for flag in ANSWER_FLAGS:
                flagged = heads[flag]["yes"] >= 0.5 if flag in heads else flag in rules[index]
                flag_correct[flag] += flagged == (flag in answers[index].flags)
    rule_agreement = {
        flag: sum((flag in found) == (flag in answer.flags) for found, answer in zip(rules, answers, strict=True))
        / len(answers)
        for flag in ANSWER_FLAGS
    }
    flag_accuracy = {flag: count / len(answers) for flag, count in flag_correct.items()}
    return correct / len(answers), flag_accuracy, rule_agreement


def held_out(model_dir: Path, dev_path: Path, training: Sequence[Example]) -> Scores | None:
    try:
        dev = load_dev(dev_path)
    except DataError as error:
        _out(f"held-out: skipped - {error} (it lives in ../shared/data beside the repo)")
        _out()
        return None
    analyser = Analyser.from_bytes((model_dir / TRIAGE_MODEL).read_bytes(), (model_dir / ANSWERS_MODEL).read_bytes())
    trained_on = {item.key for item in training}
    overlap = [item for item in dev if item.key in trained_on]
    if overlap:
        _out(f"held-out: {len(overlap)} texts also occur in the training data - left out of the score below")
    kept = [item for item in dev if item.key not in trained_on]
    predictions = []
    for item in kept:
        heads, _ = analyser.probabilities(item.text)
        kinds, rubrics = heads["kind"], heads["rubric"]
        predictions.append(
            Prediction(
                kind=max(KINDS, key=lambda name: kinds.get(name, 0.0)),
                rubric=max(RUBRICS, key=lambda name: rubrics.get(name, 0.0)),
                urgent=heads["priority"]["urgent"],
            )
        )
    scores = score(kept, predictions, with_priority=False)
    show(f"HELD-OUT {relative(dev_path)}: {len(kept)} messages, weights {analyser.version}", scores)
    return scores


def obscene_agreement(examples: Sequence[Example]) -> str:
    """Precision and recall of the мат rules against the training labels (rules are not fitted on them)."""
    found = [is_obscene(item.text) for item in examples]
    hits = sum(1 for flag, item in zip(found, examples, strict=True) if flag and item.obscene)
    claimed, labelled = sum(found), sum(item.obscene for item in examples)
    precision = hits / claimed if claimed else 0.0
    recall = hits / labelled if labelled else 0.0
    return f"мат rules vs training labels: precision {precision:.3f}, recall {recall:.3f} ({labelled} labelled obscene)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.triage.evaluate", description=__doc__)
    parser.add_argument("--labels", type=Path, help="operator-corrected labels the weights were trained with")
    parser.add_argument("--dev", type=Path, default=DEV_SET, help="held-out set (%(default)s)")
    parser.add_argument("--model-dir", type=Path, default=MODEL_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--train-dir", type=Path, default=TRAIN_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--answers", type=Path, default=ANSWERS, help=argparse.SUPPRESS)
    parser.add_argument("--no-cv", action="store_true", help="held-out figures only")
    args = parser.parse_args(argv)
    settings = Settings()
    examples = load_examples(training_files(args.train_dir))
    if args.labels is not None:
        examples = merge_labels(examples, args.labels)
    held_out(args.model_dir, args.dev, examples)
    if not args.no_cv:
        if len({item.kind for item in examples}) < 2:
            _out(f"cross-validation: skipped - {len(examples)} training examples in {relative(args.train_dir)}")
        else:
            cv = cross_validate(examples, settings, lambda line: print(line, file=sys.stderr))  # noqa: T201
            show(f"5-FOLD CROSS-VALIDATION on the training set: {len(examples)} messages", cv)
        _out(obscene_agreement(examples))
        answers = load_answers(args.answers)
        if len({answer.label for answer in answers}) == 2 and len(answers) >= 2 * FOLDS:
            accuracy, flags, rules = cross_validate_answers(answers, settings)
            _out(f"ANSWER QUALITY on {len(answers)} answers: 5-fold CV accuracy (real vs otpiska) {accuracy:.3f}")
            _out("  flags, 5-fold accuracy: " + ", ".join(f"{k} {v:.3f}" for k, v in flags.items()))
            _out("  bare rules, agreement:  " + ", ".join(f"{k} {v:.3f}" for k, v in rules.items()))
        else:
            _out(f"answer quality: skipped - {len(answers)} labelled answers in {relative(args.answers)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
