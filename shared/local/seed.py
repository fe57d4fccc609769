"""Demo data for a newcomer's first ``make dev``: filled in with the registry service."""

from __future__ import annotations

from pathlib import Path


def seed_demo(*, base_url: str, state_dir: Path) -> None:
    """Create the demo region's institutions and pages through the public API."""
    del base_url, state_dir
