"""Curated lemma lexicons (rubrics, urgency, spam, thanks, answer quality) and how a message is matched on them.

Source files are ``data/triage/lexicons/*.txt``, one entry a line (``#`` starts a comment):

- ``word``: any form of the word; the entry is lemmatised with *every* parse's normal form (``ямы`` gives both
  ``ям`` and ``яма``), and a message word matches when any of its own normal forms is among them;
- ``prefix*``: any word with a normal form starting with ``prefix`` (``мусоро*``: мусоровоз, мусоропровод);
- ``several words``: the words in this order, each matched as above, with at most ``PHRASE_GAP`` other words
  before each (``нет вода`` matches ``нет горячей воды``).

Training compiles the files into the model (``Lexicons.to_json``), so the runtime matches exactly the lexicons the
weights were fitted with and needs neither the text files nor a second lemmatisation of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_PREFIX = 3
MEMO_LIMIT = 100_000
PHRASE_GAP = 2
"""Words a phrase may skip between two of its words (``нет горячей воды`` matches ``нет вода``)."""


def _follows(rest: Sequence[frozenset[str]], lemmas: Sequence[Sequence[str]], start: int) -> bool:
    """``rest`` occurs in order from ``start``, at most ``PHRASE_GAP`` other words before each of its words."""
    position = start
    for wanted in rest:
        for candidate in range(position, min(position + PHRASE_GAP + 1, len(lemmas))):
            if not wanted.isdisjoint(lemmas[candidate]):
                position = candidate + 1
                break
        else:
            return False
    return True


@dataclass(frozen=True)
class Lexicons:
    """Compiled lexicons: ``names[i]`` is matched by lemmas, lemma prefixes and lemma phrases."""

    names: tuple[str, ...]
    lemmas: Mapping[str, tuple[int, ...]]
    """normal form -> indexes of the lexicons holding it"""
    prefixes: Mapping[str, tuple[int, ...]]
    phrases: Mapping[str, tuple[tuple[int, tuple[frozenset[str], ...]], ...]]
    """first word's normal form -> (lexicon, the following words' normal forms)"""
    longest_prefix: int = field(default=0)
    _memo: dict[str, tuple[int, ...]] = field(default_factory=dict, compare=False, repr=False)
    """normal form -> ``_single(form)``, filled as messages come (bounded by ``MEMO_LIMIT``)"""

    @classmethod
    def compile(cls, sources: Mapping[str, Iterable[str]], normal_forms: Callable[[str], Sequence[str]]) -> Lexicons:
        """Lexicons named by ``sources`` keys, from their entry lines, lemmatised with ``normal_forms``."""
        names = tuple(sorted(sources))
        lemmas: dict[str, set[int]] = {}
        prefixes: dict[str, set[int]] = {}
        phrases: dict[str, set[tuple[int, tuple[frozenset[str], ...]]]] = {}
        for index, name in enumerate(names):
            for raw in sources[name]:
                entry = raw.split("#", 1)[0].strip().lower().replace("ё", "е")
                if not entry:
                    continue
                words = entry.split()
                if len(words) == 1 and words[0].endswith("*"):
                    prefix = words[0].rstrip("*")
                    if len(prefix) < MIN_PREFIX:
                        raise ValueError(f"lexicon {name}: prefix {entry!r} is shorter than {MIN_PREFIX} letters")
                    prefixes.setdefault(prefix, set()).add(index)
                    continue
                forms = [frozenset(normal_forms(word)) | {word} for word in words]
                if len(forms) == 1:
                    for form in forms[0]:
                        lemmas.setdefault(form, set()).add(index)
                    continue
                for first in forms[0]:
                    phrases.setdefault(first, set()).add((index, tuple(forms[1:])))
        return cls(
            names=names,
            lemmas={form: tuple(sorted(ids)) for form, ids in sorted(lemmas.items())},
            prefixes={prefix: tuple(sorted(ids)) for prefix, ids in sorted(prefixes.items())},
            phrases={
                first: tuple(sorted(entries, key=lambda e: (e[0], [sorted(s) for s in e[1]])))
                for first, entries in sorted(phrases.items())
            },
            longest_prefix=max(map(len, prefixes), default=0),
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (sorted, so the same lexicons always serialise to the same bytes)."""
        return {
            "names": list(self.names),
            "lemmas": {form: list(ids) for form, ids in self.lemmas.items()},
            "prefixes": {prefix: list(ids) for prefix, ids in self.prefixes.items()},
            "phrases": {
                first: [[index, [sorted(forms) for forms in rest]] for index, rest in entries]
                for first, entries in self.phrases.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Lexicons:
        prefixes = {prefix: tuple(ids) for prefix, ids in data["prefixes"].items()}
        return cls(
            names=tuple(data["names"]),
            lemmas={form: tuple(ids) for form, ids in data["lemmas"].items()},
            prefixes=prefixes,
            phrases={
                first: tuple((index, tuple(frozenset(forms) for forms in rest)) for index, rest in entries)
                for first, entries in data["phrases"].items()
            },
            longest_prefix=max(map(len, prefixes), default=0),
        )

    def _single(self, form: str) -> tuple[int, ...]:
        """Lexicons a normal form matches by itself (as a lemma or by a prefix)."""
        found = set(self.lemmas.get(form, ()))
        for length in range(MIN_PREFIX, min(len(form), self.longest_prefix) + 1):
            found.update(self.prefixes.get(form[:length], ()))
        return tuple(sorted(found))

    def hits(self, lemmas: Sequence[Sequence[str]]) -> list[int]:
        """Per lexicon, how many words of the message (given as every parse's normal forms) it matched."""
        counts = [0] * len(self.names)
        memo = self._memo
        for position, forms in enumerate(lemmas):
            matched: set[int] = set()
            for form in forms:
                single = memo.get(form)
                if single is None:
                    if len(memo) >= MEMO_LIMIT:
                        memo.clear()
                    single = memo[form] = self._single(form)
                matched.update(single)
                for index, rest in self.phrases.get(form, ()):
                    if _follows(rest, lemmas, position + 1):
                        matched.add(index)
            for index in matched:
                counts[index] += 1
        return counts
