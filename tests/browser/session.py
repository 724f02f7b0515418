"""Playwright on the system Chromium: one browser for a test module, a fresh context (cookies, storage) per person.

A page records what its console and the browser report as errors: a refused script or style (the page's CSP), an
uncaught exception. A test asserts there are none, besides the HTTP error answers the page expects and handles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.localenv import ROOT
from tests.browser.chromium import chromium_path

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
SCREENSHOTS = ROOT / "docs" / "screenshots"
TIMEOUT_MS = 30_000  # a Lambda's cold start on the emulator takes a few seconds


@dataclass
class Tab:
    """A page of a fresh context and what went wrong in it."""

    page: Any
    viewport: str
    errors: list[str] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        # the console's "Failed to load resource" lines are the HTTP errors the page asked for and handled (a 401
        # before login, a wrong code's 400); anything else, CSP refusals included, is a fault of the page
        return [e for e in self.errors if "Failed to load resource" not in e]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.viewport}.png"
        self.page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        return path


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium (installed if missing) launched headless by Playwright; never a downloaded browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def tab(browser: Any, viewport: str, timezone: str = "Europe/Moscow", locale: str = "en-GB") -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORTS[viewport], timezone_id=timezone, locale=locale)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    opened = Tab(page, viewport)

    def console(message: Any) -> None:
        if message.type == "error":
            opened.errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: opened.errors.append(f"uncaught: {error}"))
    try:
        yield opened
    finally:
        context.close()
