"""What the browser tests ask a rendered explorer page (marks per chart, texts, console errors, requests) and
the set-up they share (the API's answer, opening a view, a screenshot)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from tests.helpers.paths import REPO

# Counts the items of every named mark in every chart the page keeps in window.explorer.charts.
MARK_COUNTS_JS = """
const counts = {};
function walk(node, into) {
  if (!node || !node.marktype) return;
  if (node.name) into[node.name] = (into[node.name] || 0) + (node.items || []).length;
  for (const item of node.items || []) for (const child of item.items || []) walk(child, into);
}
for (const [chart, view] of Object.entries(window.explorer.charts)) {
  counts[chart] = {};
  walk(view.scenegraph().root, counts[chart]);
}
return counts;
"""


def mark_counts(browser) -> dict[str, dict[str, int]]:
    """{chart: {mark name: number of drawn items}}, e.g. {"dotplot": {"dots_marks": 22, ...}}."""
    return browser.driver.execute_script(MARK_COUNTS_JS)


def text(browser, css: str) -> str:
    from selenium.webdriver.common.by import By

    return browser.driver.find_element(By.CSS_SELECTOR, css).text


def console_errors(browser, *, allow: tuple[str, ...] = ()) -> list[str]:
    """SEVERE console entries since the last call, except those containing one of `allow`."""
    entries = browser.driver.get_log("browser")
    return [
        e["message"] for e in entries if e["level"] == "SEVERE" and not any(a in e["message"] for a in allow)
    ]


def requested_urls(browser) -> list[str]:
    """Every URL the page asked the network for since the last call (from Chromium's performance log)."""
    urls = []
    for entry in browser.driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign(urls: list[str], base: str) -> list[str]:
    """The URLs that are neither the gateway nor in-page (data:, blob:)."""
    host = urlparse(base).netloc
    return [u for u in urls if urlparse(u).scheme not in ("data", "blob") and urlparse(u).netloc != host]


def wait_for_file(directory: Path, suffix: str, *, timeout: float = 10.0) -> Path:
    """The first finished download ending in `suffix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if p.name.endswith(suffix) and p.stat().st_size > 0]
        if done:
            return done[0]
        time.sleep(0.05)
    raise AssertionError(f"no {suffix} file was downloaded into {directory}: {sorted(directory.iterdir())}")


def wait_until(browser, script: str, *, timeout: float = 10.0) -> Any:
    """Poll a JS expression (`return ...`) until it is truthy; its value."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser.driver, timeout).until(lambda d: d.execute_script(script))


MARK_ITEMS_JS = """
const [chart, name] = arguments;
const found = [];
function walk(node) {
  if (!node || !node.marktype) return;
  if (node.name === name) {
    for (const item of node.items || []) found.push({x: item.x, y: item.y, datum: item.datum});
  }
  for (const item of node.items || []) for (const child of item.items || []) walk(child);
}
walk(window.explorer.charts[chart].scenegraph().root);
return found;
"""


def mark_items(browser, chart: str, mark: str) -> list[dict[str, Any]]:
    """The drawn items of one mark: their x, y and the data row each stands for."""
    return browser.driver.execute_script(MARK_ITEMS_JS, chart, mark)


def x_order(items: list[dict[str, Any]], field: str) -> list[str]:
    """The values of `field` from left to right as drawn."""
    return list(dict.fromkeys(item["datum"][field] for item in sorted(items, key=lambda i: i["x"])))


# ----- the set-up every explorer test module shares ----------------------------------------------------

SCREENSHOTS = REPO / "docs" / "screenshots"


def api_json(base: str, path: str, body: dict | None = None, *, timeout: float = 120.0, **query) -> Any:
    """The gateway's JSON answer (POST with `body`, GET without), asserting a 200."""
    import requests

    response = requests.request(
        "POST" if body is not None else "GET", base + path, json=body, params=query, timeout=timeout
    )
    assert response.status_code == 200, response.text
    return response.json()


def open_view(browser, base: str, **params) -> dict[str, Any]:
    """Load the explorer at ?params and wait until the view has drawn; its timing entry."""
    browser.driver.get(f"{base}/?{urlencode(params, doseq=True)}")
    return browser.wait_ready()


def screenshot(browser, tmp_path: Path, name: str) -> None:
    """A full-page PNG (kept in docs/screenshots/ when GENOSTREAM_UPDATE_SCREENSHOTS=1)."""
    driver = browser.driver
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 700), 1800))
    target = tmp_path / f"{name}.png"
    driver.save_screenshot(str(target))
    driver.set_window_size(1280, 1000)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("GENOSTREAM_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(target, SCREENSHOTS / target.name)
