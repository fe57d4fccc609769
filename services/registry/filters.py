"""What the institution and page listings can be narrowed by (unset conditions do not narrow).

Name search: the query's words (``records.name_words``: lower-case, ``ё`` as ``е``, one-letter words left out) must
each match one of the name's search terms (``records.name_terms``), in any order. A word matches a term it begins
(``школ`` finds «школа»), a number only the same number (``5`` finds «№ 5», not «№ 15» or «№ 50»).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.registry.records import InstitutionRecord, PageRecord, name_key, name_terms, name_words


def word_matches(word: str, term: str) -> bool:
    """True if a query word matches one search term of a name."""
    return term == word if word.isdigit() else term.startswith(word)


def terms_match(words: Sequence[str], terms: Sequence[str]) -> bool:
    """True if every query word matches one of the terms."""
    return all(any(word_matches(word, term) for term in terms) for word in words)


@dataclass(frozen=True)
class InstitutionFilter:
    """Conditions on institutions; ``name`` searches by words, ``municipality`` compares as ``name_key`` does."""

    kind: str | None = None
    sphere: str | None = None
    level: str | None = None
    status: str | None = None
    has_pages: bool | None = None
    name: str | None = None
    parent_id: str | None = None
    municipality: str | None = None

    @property
    def words(self) -> list[str]:
        """The searchable words of ``name`` (none without a name)."""
        return name_words(self.name) if self.name else []

    def matches(self, record: InstitutionRecord) -> bool:
        """True if the record meets every set condition."""
        pages = int((record.get("page_stats") or {}).get("pages", 0))
        return all(
            (
                not self.kind or record["kind"] == self.kind,
                not self.sphere or self.sphere in record["spheres"],
                not self.level or record["level"] == self.level,
                not self.status or record["status"] == self.status,
                self.has_pages is None or (pages > 0) == self.has_pages,
                not self.name or terms_match(self.words, name_terms(record["name"])),
                not self.parent_id or record.get("parent_id") == self.parent_id,
                not self.municipality or name_key(record.get("municipality", "")) == name_key(self.municipality),
            )
        )


@dataclass(frozen=True)
class PageFilter:
    """Conditions on pages; ``compliance_below`` keeps pages whose compliance is lower than it."""

    platform: str | None = None
    category: str | None = None
    status: str | None = None
    compliance_below: int | None = None
    gov_mark: bool | None = None

    def matches(self, record: PageRecord) -> bool:
        """True if the record meets every set condition."""
        return all(
            (
                not self.platform or record["platform"] == self.platform,
                not self.category or record["category"] == self.category,
                not self.status or record["status"] == self.status,
                self.compliance_below is None or int(record.get("compliance_pct") or 0) < self.compliance_below,
                self.gov_mark is None or bool(record.get("gov_mark")) == self.gov_mark,
            )
        )
