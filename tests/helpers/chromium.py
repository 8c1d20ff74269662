"""Headless Chromium through selenium: the one driver of the browser tests and the explorer bench
(`python -m bench.explorer`).

Debian's `chromium` and `chromium-driver` packages (`/usr/bin/chromium`, `/usr/bin/chromedriver`); selenium
never downloads a browser or a driver here (SE_OFFLINE). The flags keep a headless Chromium from stalling on
first-run, sync and update work in a sandboxed container.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("GENOSTREAM_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GENOSTREAM_CHROMEDRIVER", "/usr/bin/chromedriver")
HOW_TO_ENABLE = (
    "browser tests need Debian's chromium and chromium-driver: "
    "apt-get update && apt-get install -y chromium chromium-driver"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)


def missing() -> str | None:
    """Why the browser cannot start here (one sentence), or None when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} not found; {HOW_TO_ENABLE}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed; make install"
    return None


def skip_reason() -> str | None:
    """Why a browser test module is skipped here (`missing()`), or None: under CI (CI=true) the module runs
    and its fixtures fail instead, so CI cannot pass without the browser tests."""
    return missing() if os.environ.get("CI", "").lower() != "true" else None


class Browser:
    """A fresh headless Chromium (own profile, own download directory); `close()` removes both."""

    def __init__(self, *, download_dir: Path | None = None) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")
        self.profile = Path(tempfile.mkdtemp(prefix="genostream-chromium-"))
        self.downloads = download_dir or self.profile / "downloads"
        self.downloads.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile / 'profile'}")
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(self.downloads),
                "download.prompt_for_download": False,
                "profile.default_content_setting_values.automatic_downloads": 1,
            },
        )
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        self.driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(self.downloads)}
        )

    def wait_ready(self, *, timeout: float = 30.0) -> dict[str, Any]:
        """Wait until the explorer has rendered the current URL, parts drawn after it included (body
        [data-drawing]); its last timing entry, with `usable`: the entry of the moment the view was usable
        (itself when nothing was drawn later)."""
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, timeout).until(
            lambda d: d.execute_script(
                "return document.body.dataset.state === 'ready' && !document.body.dataset.drawing"
                " && !!window.explorer && window.explorer.renders > 0"
            )
        )
        return self.driver.execute_script(
            "const t = window.explorer.timings, last = t.at(-1);"
            " return last ? { ...last, usable: last.part ? t.at(-2) : last } : null;"
        )

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
