"""The triage of one citizen message and the rating of one answer, from the committed weights files."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from services.appeals.labels import KINDS, RUBRICS, Kind, Priority, Rubric
from services.appeals.triage import answers, gc_paused
from services.appeals.triage.features import FeatureConfig, Groups, extract
from services.appeals.triage.lexicons import Lexicons
from services.appeals.triage.model import LinearModel, ModelError, decode
from services.appeals.triage.obscene import is_obscene
from services.appeals.triage.text import Prepared, preload, prepare

MAX_CHARS = 4000
"""Longer messages are judged on their beginning (VK messages are at most 4096 characters)."""
URGENT_THRESHOLD = 0.5
TRIAGE_MODEL = "triage.model"
ANSWERS_MODEL = "answers.model"


@dataclass(frozen=True, slots=True)
class Triage:
    """What the analyser says about one message.

    ``confidence`` is the probability of ``kind``, times the probability of ``rubric`` for an appeal: a low value
    (say below 0.5) is worth an operator's look.
    """

    kind: Kind
    rubric: Rubric | None
    priority: Priority
    obscene: bool
    confidence: float
    classifier_version: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class AnswerRating:
    """Quality of a community's answer: ``score`` 0-100 (likelihood of a real answer, not an «отписка») and flags
    among ``too_short``, ``no_greeting``, ``no_deadline``, ``no_measures``, ``template_only``."""

    score: int
    flags: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "flags": list(self.flags)}


class Scorer:
    """A weights file with the features and lexicons it was trained with."""

    def __init__(self, model: LinearModel) -> None:
        self.model = model
        self.config = FeatureConfig.from_json(model.header["features"])
        self.lexicons = Lexicons.from_json(model.header["lexicons"])

    def groups(self, prepared: Prepared, obscene: bool, extra_flags: tuple[str, ...] = ()) -> Groups:
        return extract(prepared, self.lexicons, obscene, self.config, extra_flags)


class Analyser:
    """Comment triage and answer rating; build it once per process (``default_analyser``)."""

    def __init__(self, comments: LinearModel, answer_model: LinearModel) -> None:
        self.comments = Scorer(comments)
        self.answers = Scorer(answer_model)
        self.version = comments.version
        preload(comments.header.get("vocabulary", {}))

    @classmethod
    def from_bytes(cls, comments: bytes, answer_model: bytes) -> Analyser:
        return cls(decode(comments), decode(answer_model))

    def probabilities(self, text: str) -> tuple[dict[str, dict[str, float]], bool]:
        """Every head's class probabilities (``kind``, ``rubric``, ``priority``) and the мат flag of a message."""
        prepared = prepare(text[:MAX_CHARS])
        obscene = is_obscene(prepared.lowered, prepared.lemmas)
        return self.comments.model.predict(self.comments.groups(prepared, obscene)), obscene

    def analyse(self, text: str) -> Triage:
        """Kind, rubric (appeals only), priority, мат and confidence of one message."""
        predicted, obscene = self.probabilities(text)
        kinds = predicted["kind"]
        kind: Kind = max(KINDS, key=lambda name: kinds.get(name, 0.0))
        confidence = kinds[kind]
        rubric: Rubric | None = None
        priority: Priority = "normal"
        if kind == "appeal":
            rubrics = predicted["rubric"]
            top: Rubric = max(RUBRICS, key=lambda name: rubrics.get(name, 0.0))
            rubric = top
            confidence *= rubrics[top]
            if predicted["priority"]["urgent"] >= URGENT_THRESHOLD:
                priority = "urgent"
        return Triage(kind, rubric, priority, obscene, round(confidence, 4), self.version)

    def rate_answer(self, text: str) -> AnswerRating:
        """A 0-100 quality score and the quality flags of a community's answer."""
        prepared = prepare(text[:MAX_CHARS])
        rules = answers.rule_flags(prepared, self.answers.lexicons)
        heads = self.answers.model.predict(self.answers.groups(prepared, False, answers.feature_flags(prepared, rules)))
        flags = tuple(flag for flag in answers.FLAGS if (heads[flag]["yes"] >= 0.5 if flag in heads else flag in rules))
        return AnswerRating(score=round(100 * heads["quality"]["real"]), flags=flags)


@lru_cache(maxsize=1)
def default_analyser() -> Analyser:
    """The analyser of the weights shipped in this package, loaded on first use and kept for the process."""
    folder = resources.files(__package__ or "services.appeals.triage") / "model"
    try:
        with gc_paused():
            return Analyser.from_bytes((folder / TRIAGE_MODEL).read_bytes(), (folder / ANSWERS_MODEL).read_bytes())
    except (OSError, ModelError) as error:
        raise ModelError(f"triage weights not usable ({error}); run `make train-triage`") from error
