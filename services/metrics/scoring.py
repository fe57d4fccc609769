"""Page scores and region ratings, 0-100, with the breakdown of every component (pure functions, no I/O).

Default weights follow the regional «светофор» practice; a region may override any of them
(``GOSPUBLIKI_METRICS_SCORE_WEIGHTS``: ``{"default": {...}, "54": {"posting": 35, ...}}``). Each component is a
ratio 0..1 times its weight; the weights are scaled to sum to 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .counters import median_response

Basis = dict[str, float | int | str | None]

PAGE_WEIGHTS = {"compliance": 40.0, "posting": 30.0, "answering": 20.0, "audience": 10.0}
REGION_WEIGHTS = {"coverage": 20.0, "page_score": 30.0, "answering": 20.0, "posting": 15.0, "reach": 15.0}
POSTS_PER_WEEK = {"flagship": 7.0, "active": 3.0, "card": 1.0}
"""Posting norm per page category; ``active`` is the regional baseline of 3 posts a week."""
SLA_TARGET_MINUTES = 540
"""A median first response within 9 working hours scores fully, falling linearly to 0 at four times that."""
GROWTH_TARGET = 0.02
"""Subscriber growth of 2 % over the period scores fully."""
INTERACTIONS_TARGET = 10.0
"""Likes, comments and reposts per post that score fully."""


@dataclass(frozen=True, slots=True)
class Part:
    """One component: its ratio 0..1, the points it gives and what it was computed from."""

    ratio: float
    points: float
    weight: float
    basis: Basis


@dataclass(frozen=True, slots=True)
class Score:
    """A score 0-100 and its components."""

    total: float
    parts: dict[str, Part]


def weights_for(
    region_code: str, defaults: Mapping[str, float], overrides: Mapping[str, Mapping[str, float]] | None
) -> dict[str, float]:
    """The weights of a region: defaults, then the ``default`` override, then the region's own."""
    weights = dict(defaults)
    for key in ("default", region_code):
        weights.update({k: v for k, v in (overrides or {}).get(key, {}).items() if k in defaults})
    return weights


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _score(ratios: Mapping[str, tuple[float, Basis]], weights: Mapping[str, float]) -> Score:
    scale = 100.0 / (sum(weights.values()) or 1.0)
    parts = {
        name: Part(
            ratio=round(ratio, 4), points=round(ratio * weights[name] * scale, 2), weight=weights[name], basis=basis
        )
        for name, (ratio, basis) in ratios.items()
    }
    return Score(total=round(sum(part.points for part in parts.values()), 1), parts=parts)


def answering_ratio(counts: Mapping[str, int]) -> tuple[float, Basis]:
    """Answering citizens: half the share answered within SLA, a quarter the median speed, a quarter quality."""
    received = max(counts.get("appeals_new", 0), counts.get("appeals_answered", 0))
    in_sla = counts.get("appeals_in_sla", 0) / received if received else 1.0
    median = median_response(counts)
    speed = 1.0 if median is None else _clamp(1 - max(0, median - SLA_TARGET_MINUTES) / (3 * SLA_TARGET_MINUTES))
    quality_count = counts.get("quality_count", 0)
    quality = counts.get("quality_sum", 0) / quality_count / 100 if quality_count else 1.0
    ratio = 0.5 * _clamp(in_sla) + 0.25 * speed + 0.25 * _clamp(quality)
    basis: Basis = {"appeals": received, "share_in_sla": round(in_sla, 4), "median_minutes": median, "quality": quality}
    return ratio, basis


def page_score(
    *,
    counts: Mapping[str, int],
    days: int,
    category: str,
    compliance_pct: int | None,
    subscribers: int | None,
    weights: Mapping[str, float],
) -> Score:
    """A page's score over ``days`` local days from its summed counters."""
    expected_posts = POSTS_PER_WEEK.get(category, POSTS_PER_WEEK["active"]) * days / 7
    posts = counts.get("post", 0)
    growth = counts.get("subscriber_growth", 0)
    base = max(1, (subscribers or 0) - growth)
    interactions = counts.get("like_add", 0) + counts.get("comment", 0) + counts.get("repost", 0)
    per_post = interactions / posts if posts else 0.0
    audience = 0.5 * _clamp(growth / base / GROWTH_TARGET) + 0.5 * _clamp(per_post / INTERACTIONS_TARGET)
    ratios: dict[str, tuple[float, Basis]] = {
        "compliance": ((compliance_pct or 0) / 100, {"compliance_pct": compliance_pct}),
        "posting": (_clamp(posts / expected_posts), {"posts": posts, "norm": round(expected_posts, 2)}),
        "answering": answering_ratio(counts),
        "audience": (audience, {"subscriber_growth": growth, "interactions_per_post": round(per_post, 2)}),
    }
    return _score(ratios, weights)


def region_score(
    *,
    counts: Mapping[str, int],
    days: int,
    pages: int,
    institutions: int,
    covered: int,
    subscribers: int,
    average_page_score: float | None,
    internet_audience: int | None,
    weights: Mapping[str, float],
) -> Score:
    """A region's rating score over ``days`` from its summed counters and page/institution counts."""
    expected_posts = pages * POSTS_PER_WEEK["active"] * days / 7
    posts = counts.get("post", 0)
    ratios: dict[str, tuple[float, Basis]] = {
        "coverage": (
            covered / institutions if institutions else 0.0,
            {"institutions": institutions, "covered": covered},
        ),
        "page_score": ((average_page_score or 0) / 100, {"average_page_score": average_page_score}),
        "answering": answering_ratio(counts),
        "posting": (_clamp(posts / expected_posts) if expected_posts else 0.0, {"posts": posts, "pages": pages}),
        "reach": (
            _clamp(subscribers / internet_audience) if internet_audience else 0.0,
            {"subscribers": subscribers, "internet_audience": internet_audience},
        ),
    }
    return _score(ratios, weights)
