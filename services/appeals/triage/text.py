"""Tokens and lemmas of a citizen's message: ``razdel`` tokens, every ``pymorphy3`` parse's normal form.

The morphological analyser is built once per process, on first use (about 0.1-0.2 s: the dictionary is read from
the ``pymorphy3-dicts-ru`` wheel, located directly so ``importlib.metadata`` entry points are never scanned).
Lemmas are cached per word form, and the words of the training set come precomputed with the weights (``preload``),
so a warm container rarely parses a word.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pymorphy3  # type: ignore[import-untyped]

URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:ru|рф|com|net|org|su|io|me|info|site|online|shop|pro)\b(?:/\S*)?"
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
PHONE = re.compile(r"(?:\+7|\b8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}\b")
MENTION = re.compile(r"\[(?:id|club|public)\d+\|[^\]]*\]|(?<![\w@])@\w+")
HASHTAG = re.compile(r"#\w+")
PRICE = re.compile(r"\d\s*(?:₽|руб|р\.|тыс|\$|€)|(?:₽|\$)\s*\d")
LETTERS = "a-zA-Zа-яА-ЯёЁәөүҗңһіїєґӘӨҮҖҢҺІЇЄҐ"
"""Letters of the alphabets citizens write in (Russian, Latin, Tatar, Ukrainian): a class cheap to compile."""
LETTER = re.compile(f"[{LETTERS}]")
WORD = re.compile(f"[{LETTERS}]+(?:-[{LETTERS}]+)*")
# Pictographs, dingbats, flags and variation selectors: what VK users type as emoji.
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")


@dataclass(frozen=True, slots=True)
class Prepared:
    """One message, ready for features: lowered text, word tokens and each word's normal forms."""

    raw: str
    lowered: str
    words: tuple[str, ...]
    """Word tokens (letters, inner hyphens), lower case, ``ё`` as ``е``."""
    lemmas: tuple[tuple[str, ...], ...]
    """Per word: the normal forms of all its parses, the most probable first, without duplicates."""
    signals: frozenset[str]
    """Surface signals found before tokenising: ``url``, ``email``, ``phone``, ``mention``, ``hashtag``, ``price``."""
    emoji: int


@lru_cache(maxsize=1)
def morph() -> pymorphy3.MorphAnalyzer:
    """The process's one analyser (built lazily: importing this module costs no dictionary load)."""
    from services.appeals.triage import gc_paused

    with gc_paused():
        import pymorphy3
        import pymorphy3_dicts_ru  # type: ignore[import-untyped]

        return pymorphy3.MorphAnalyzer(path=pymorphy3_dicts_ru.get_path(), lang="ru")


_known: dict[str, tuple[str, ...]] = {}


def preload(vocabulary: Mapping[str, Sequence[str]]) -> None:
    """Normal forms computed ahead (the training vocabulary, shipped in the weights): no parse for these words."""
    _known.update((word, tuple(forms)) for word, forms in vocabulary.items())
    normal_forms.cache_clear()


@lru_cache(maxsize=65536)
def normal_forms(word: str) -> tuple[str, ...]:
    """Every parse's normal form of ``word`` (lower case, ``ё`` as ``е``), the most probable first.

    ``ямы`` gives ``('ям', 'яма')``: a keyword rule on lemmas must match any of them, not only the first.
    """
    known = _known.get(word)
    if known is not None:
        return known
    return parse_forms(word)


def parse_forms(word: str) -> tuple[str, ...]:
    """``normal_forms`` by the morphological analyser itself (no shortcut through preloaded words)."""
    forms: list[str] = []
    for parse in morph().parse(word):
        form = parse.normal_form.replace("ё", "е")
        if form not in forms:
            forms.append(form)
    return tuple(forms) or (word,)


def tokens(text: str) -> list[str]:
    """``razdel`` tokens of ``text`` (punctuation runs included)."""
    from razdel import tokenize  # type: ignore[import-untyped]

    return [token.text for token in tokenize(text)]


def prepare(text: str) -> Prepared:
    """Lower-case ``text``, note URLs, phones and the like, then tokenise and lemmatise its words."""
    lowered = text.lower().replace("ё", "е")
    signals: set[str] = set()
    stripped = lowered
    for name, pattern in (
        ("url", URL),
        ("email", EMAIL),
        ("phone", PHONE),
        ("mention", MENTION),
        ("hashtag", HASHTAG),
    ):
        stripped, count = pattern.subn(" ", stripped)
        if count:
            signals.add(name)
    if PRICE.search(lowered):
        signals.add("price")
    words = tuple(token for token in tokens(stripped) if WORD.fullmatch(token))
    return Prepared(
        raw=text,
        lowered=lowered,
        words=words,
        lemmas=tuple(normal_forms(word) for word in words),
        signals=frozenset(signals),
        emoji=len(EMOJI.findall(text)),
    )
