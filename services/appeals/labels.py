"""What a citizen's message is: its kind, its rubric (appeals only) and its priority - one list each."""

from __future__ import annotations

from typing import Literal, get_args

Kind = Literal["appeal", "gratitude", "spam", "abuse", "other"]
Rubric = Literal[
    "roads_transport",
    "improvement",
    "housing_utilities",
    "waste",
    "healthcare",
    "social_protection",
    "education",
    "culture_sport",
    "construction",
    "ecology",
    "stray_animals",
    "other",
]
Priority = Literal["normal", "urgent"]
KINDS: tuple[Kind, ...] = get_args(Kind)
RUBRICS: tuple[Rubric, ...] = get_args(Rubric)
