"""Lexicons are lemmatised with every parse's normal form and match messages the same way."""

from __future__ import annotations

from services.appeals.triage.lexicons import Lexicons
from services.appeals.triage.text import normal_forms, prepare


def test_normal_forms_keep_every_parse() -> None:
    forms = normal_forms("ямы")
    assert "яма" in forms and "ям" in forms  # the first parse alone would lose one of them


def test_entries_are_lemmatised_with_all_parses() -> None:
    lexicons = Lexicons.compile({"roads": ["ямы"]}, normal_forms)
    assert {"яма", "ям", "ямы"} <= set(lexicons.lemmas)


def test_message_matches_on_any_normal_form() -> None:
    lexicons = Lexicons.compile({"roads": ["яма", "асфальт*"], "utilities": ["нет вода", "горячий вода"]}, normal_forms)
    hits = lexicons.hits(prepare("Опять ямы, асфальтирование и нет горячей воды").lemmas)
    counts = dict(zip(lexicons.names, hits, strict=True))
    assert counts == {"roads": 2, "utilities": 2}  # "нет горячей воды" matches "нет вода" (a word skipped) too


def test_comments_and_prefix_rules() -> None:
    lexicons = Lexicons.compile({"waste": ["# a comment", "мусоро*   # prefix", ""]}, normal_forms)
    assert lexicons.hits(prepare("мусоровоз не приехал").lemmas) == [1]
    assert lexicons.hits(prepare("музыка").lemmas) == [0]


def test_json_round_trip() -> None:
    lexicons = Lexicons.compile({"a": ["яма", "нет вода", "мусоро*"], "b": ["газ"]}, normal_forms)
    assert Lexicons.from_json(lexicons.to_json()) == lexicons
