"""A real gateway (waitress, in a thread) on the session store and one headless Chromium for the module.

Without Debian's chromium + chromium-driver these tests are skipped with one line saying how to install them;
under CI (CI=true) a missing browser fails instead, so CI cannot pass without running them.
"""

from __future__ import annotations

import logging
import os
import threading

import pytest

from tests.helpers.chromium import Browser, missing


@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def explorer_url(browser_available, gateway_app) -> str:
    """The gateway served by waitress on an ephemeral localhost port."""
    from waitress import create_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(gateway_app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture(scope="session")
def chromium(browser_available) -> Browser:
    """One headless Chromium for the session (each test starts from a fresh page load)."""
    browser = Browser()
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: Browser, explorer_url: str):
    """The browser with its console log and download directory emptied for this test."""
    chromium.driver.get("about:blank")
    chromium.driver.get_log("browser")
    chromium.driver.get_log("performance")
    for leftover in chromium.downloads.iterdir():
        leftover.unlink()
    return chromium
