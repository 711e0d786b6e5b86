"""Browser tests: Playwright driving Debian's chromium at phone- and desktop-sized viewports.

Outside CI they skip when chromium or Playwright is missing; under CI=true that is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

CHROMIUM = Path(os.environ.get("RAPPORT_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


class _OneRequestAtATime(WSGIServer):
    """The live server for SQLite: one request at a time.

    The in-memory test database is one connection, shared by the live server's request threads;
    two requests at once (a double tap on "Send") interleave their savepoints on it and fail
    with "no such savepoint". This server answers one request after another, in the live
    server's own thread (which has the shared connection), and closes each connection, so a
    browser's second request waits its turn as it would behind a slow server. On PostgreSQL each
    request thread has a connection of its own, and the threaded server stays.
    """

    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    LiveServerThread.server_class = _OneRequestAtATime


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser():
    """One chromium for the browser tests that run one after another in a process (under xdist,
    one per worker); each test gets a fresh context (cookies, storage, viewport) of its own.

    Between Playwright's calls its event loop counts as running in this thread, and Django
    refuses ORM calls while one is: the async-safety check is relaxed while the browser lives.
    It lives only while tests of this package run (pytest tears a package's fixtures down before
    a test from elsewhere starts), so no other test runs with the check relaxed.
    """
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found: install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as p:
            shared = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            yield shared
            shared.close()


def _page(browser, **context_options):
    """A fresh page in a fresh context of the shared browser."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    """A fresh phone-sized browser page."""
    yield from _page(browser, **PHONE)


@pytest.fixture
def desktop(browser):
    """A fresh desktop-sized browser page (resize it with `page.set_viewport_size(PHONE[...])`
    to check the narrow layout in the same session)."""
    yield from _page(browser, **DESKTOP)


@pytest.fixture
def axe_check():
    """Run axe-core on the page; fail on serious or critical violations."""
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        _missing("axe-playwright-python is not installed")
    axe = Axe()

    def check(page):
        # axe-core is injected once per document: checking the same page again (at the other
        # width) runs the copy already there rather than sending its 500 kB script again.
        if page.evaluate("typeof window.axe === 'undefined'"):
            page.evaluate(axe.axe_script)
        results = page.evaluate("axe.run({resultTypes: ['violations']})")
        bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
        assert not bad, f"{page.url}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in bad
        )
        return results

    return check
