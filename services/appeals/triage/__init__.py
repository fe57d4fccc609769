"""Triage of citizens' messages on official VK pages: kind, rubric, priority, мат; quality of the answers.

The API for the appeals service::

    from services.appeals import triage

    result = triage.analyse(text)        # Triage(kind, rubric, priority, obscene, confidence, classifier_version)
    result.as_dict()                     # JSON-able
    triage.rate_answer(answer_text)      # AnswerRating(score 0-100, flags)

Importing this package costs about a millisecond: the modules, the morphological dictionary and the weights load on
the first call, once per process (``warm_up()`` forces it). Inference is pure Python over the committed weights
(``model/*.model``, built by ``python -m tooling.triage.train``); no numpy, no scikit-learn.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.appeals.triage.analyser import Analyser, AnswerRating, Triage

__all__ = ["analyse", "classifier_version", "rate_answer", "warm_up"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection while loading what lives as long as the process (modules, dictionary, weights).

    A load allocates a few hundred thousand objects; in a worker whose heap already holds boto3 and pydantic, that
    triggers full collections which scan everything for nothing (tens of milliseconds of a cold start).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyser() -> Analyser:
    with gc_paused():
        from services.appeals.triage.analyser import default_analyser

        return default_analyser()


def analyse(text: str) -> Triage:
    """Triage one citizen message (comment, private message or board post) with the shipped weights."""
    return _analyser().analyse(text)


def rate_answer(text: str) -> AnswerRating:
    """Rate one answer of a community to a citizen: ``score`` 0-100 and quality ``flags``."""
    return _analyser().rate_answer(text)


def classifier_version() -> str:
    """The version of the shipped weights (store it with every triaged appeal)."""
    return _analyser().version


def warm_up() -> None:
    """Load the modules, the weights and the morphological dictionary now (otherwise the first calls do)."""
    from services.appeals.triage.text import morph

    analyse("Здравствуйте")
    morph()
