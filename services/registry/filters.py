"""What the institution and page listings can be narrowed by (unset conditions do not narrow)."""

from __future__ import annotations

from dataclasses import dataclass

from services.registry.records import InstitutionRecord, name_key


@dataclass(frozen=True)
class InstitutionFilter:
    """Conditions on institutions; ``name_prefix`` compares case-insensitively, ``ё`` as ``е``."""

    kind: str | None = None
    sphere: str | None = None
    level: str | None = None
    status: str | None = None
    has_pages: bool | None = None
    name_prefix: str | None = None
    parent_id: str | None = None

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
                not self.name_prefix or name_key(record["name"]).startswith(name_key(self.name_prefix)),
                not self.parent_id or record.get("parent_id") == self.parent_id,
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
