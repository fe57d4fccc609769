"""Playwright driving the system's Chromium (Debian's ``chromium``; nothing is downloaded) against the local stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("GOSPUBLIKI_CHROMIUM", "/usr/bin/chromium")
# Headless, as root, on a machine with a closed network: no sandbox, GPU, QUIC or background connections.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
VENDOR_STAMP = ROOT / "console" / "app" / "vendor" / ".installed"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module: Playwright's sync API keeps an event loop running in this thread while it
    lives, which later tests' ``asyncio.run`` must not meet."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    if not VENDOR_STAMP.exists():
        pytest.fail("the console's libraries are missing: `make console` runs npm ci in console/")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (its own session storage) with a laptop-sized window; page errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="ru-RU")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def screenshot(page: Any, name: str) -> None:
    """Save the whole page as test-artifacts/console/<name>.png for a reviewer."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
