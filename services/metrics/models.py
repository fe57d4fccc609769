"""Metrics read models (no FastAPI import: workers share these)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shared.events import ActivityKind


class DailyActivity(BaseModel):
    """Counters of one page or region on one local day."""

    day: date
    counts: dict[ActivityKind, int] = Field(default_factory=dict)


class ActivityReport(BaseModel):
    """Activity of a page or region over a period of local days."""

    scope: str = Field(description="page:<id> or region:<code>")
    days: list[DailyActivity]
    totals: dict[ActivityKind, int]
