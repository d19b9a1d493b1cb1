"""Headless Chromium for tests that need a real browser, and a local HTTP server to feed it.

Self-contained so any test module can reuse it: `from browser import chrome, serve`
(importing the fixture is enough for pytest to find it). fetch() does not work over
file://, so built output is served over http on 127.0.0.1 with a free port.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_browser() -> tuple[str | None, str | None]:
    """Paths of Chromium and its driver (Debian: packages chromium and chromium-driver)."""
    binary = next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    return binary, shutil.which("chromedriver")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output clean
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) in a thread; yields its root URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def chrome(tmp_path_factory):
    """One headless Chromium per test worker, with a fresh profile; skips if none installed."""
    binary, driver_path = find_browser()
    if not binary or not driver_path:
        missing = " and ".join(
            name for name, path in (("Chromium", binary), ("chromedriver", driver_path)) if not path
        )
        pytest.skip(
            f"{missing} not found: browser tests need Chromium and chromedriver on PATH "
            "(Debian/Ubuntu: apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
