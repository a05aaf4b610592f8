"""Open a local HTML file in headless Chromium, for tests that look at a page as a person would.

    from tests import browser

    def test_page(tmp_path, chromium):        # the session's browser (tests/conftest.py)
        browser.require_chromium()            # skips without a browser, fails under CI
        with browser.open_file(tmp_path / "page.html", chromium) as view:
            assert view.errors() == []
            view.screenshot(tmp_path / "page.png")
            assert browser.distinct_colours(tmp_path / "page.png") > 16

The browser is the system Chromium (/usr/bin/chromium, or $HDS_CHROMIUM),
driven by Playwright for Python. Playwright's own browser downloads are never
used. One browser serves the session (`session()`, the `chromium` fixture);
each page gets a fresh, empty browser context (its own cookies, storage and
cache, as a new profile has), and every request that is not
for a file:, data: or about: URL is recorded (the machine has no network, so
such a request would fail anyway; recording it names the culprit).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("HDS_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


def require_chromium() -> None:
    """Skip the calling test when there is no browser to drive, unless CI is set: then fail.

    Under CI a missing browser or a missing Playwright is a broken setup, not a reason to skip."""
    problem = None
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        problem = f"no Chromium at {CHROMIUM} (install Debian's chromium package, or set HDS_CHROMIUM)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Playwright for Python is not installed (pip install -e '.[dev]')"
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {problem}")
    pytest.skip(problem)


@dataclass
class PageView:
    """An open page plus everything it complained about."""

    page: object  # playwright.sync_api.Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    network_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        """Every console error, uncaught page error, non-local request and failed request, as text."""
        return ([f"console: {e}" for e in self.console_errors]
                + [f"page error: {e}" for e in self.page_errors]
                + [f"network request: {u}" for u in self.network_requests]
                + [f"failed request: {u}" for u in self.failed_requests])

    def evaluate(self, script: str, arg=None):
        return self.page.evaluate(script, arg)

    def screenshot(self, path: Path | str, full_page: bool = True) -> Path:
        path = Path(path)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def pdf(self, path: Path | str) -> Path:
        """Print the page as Chromium would to PDF (A4 unless the page's CSS says otherwise)."""
        path = Path(path)
        self.page.pdf(path=str(path), prefer_css_page_size=True, print_background=True)
        return path


@contextlib.contextmanager
def session():
    """Yield a headless Chromium (a playwright Browser) to open pages in; closes it after."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def open_file(path: Path | str, chromium=None, width: int = 1280, height: int = 900):
    """Yield a PageView of `path` loaded in a fresh context of `chromium` (a browser of `session()`; without
    one, a browser is started for this page alone); closes the context after."""
    if chromium is None:
        with session() as own, open_file(path, own, width, height) as view:
            yield view
        return
    url = Path(path).resolve().as_uri()
    context = chromium.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                   offline=True, java_script_enabled=True)
    try:
        page = context.new_page()
        view = PageView(page)
        page.on("console", lambda m: view.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: view.page_errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(LOCAL_SCHEMES)
                else view.network_requests.append(r.url))
        page.on("requestfailed", lambda r: view.failed_requests.append(f"{r.url} ({r.failure})"))
        page.goto(url, wait_until="load")
        yield view
    finally:
        context.close()


def distinct_colours(png: Path | str, limit: int = 1 << 16) -> int:
    """How many distinct RGB colours a PNG has (a blank page has one or two)."""
    from PIL import Image

    with Image.open(png) as image:
        colours = image.convert("RGB").getcolors(maxcolors=limit)
    return limit if colours is None else len(colours)
