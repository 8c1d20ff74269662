"""`genostream launch PATH`: a study file (or directory) in, the explorer out — detect, load, build, serve.

Everything runs in this one process, which holds the embedded store from the load to the last request (chDB
allows one process per store); Ctrl-C stops the server and releases the store.
"""

from __future__ import annotations

import os
import sys
import time
import webbrowser
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode

from clickhouse_connect.driver.client import Client

from gateway.clients import engine_server_settings
from gateway.config import GatewayConfig
from gateway.serving import Service, start
from genostream.engine import get_client
from genostream_cli.build import build_marts
from genostream_cli.freshness import Plan, built_load, plan, sha256_of
from loader import dataset_name, detect_study, list_datasets, load_dataset


def prepare(path: Path, dataset: str | None, *, say: Callable[[str], None]) -> tuple[str, Client]:
    """Load and build the study at `path` unless the store already holds it built from the same content;
    the dataset's name, and the client that started the engine — with the gateway's server settings (its
    memory cap; chDB takes them only from the connection that starts it), kept open until the gateway has
    opened its own."""
    files = detect_study(path)
    name = dataset_name(dataset, path, files)
    client = get_client(server_settings=engine_server_settings(GatewayConfig.from_env()))
    try:
        loaded = next((d for d in list_datasets(client) if d["name"] == name), None)
        todo = plan(loaded, built_load(client, name), files.roles(), sha256_of)
        if todo is Plan.SERVE:
            say(f"{name}: already loaded and built from the same content ({path}); skipping load and build")
        if todo is Plan.BUILD:
            say(f"{name}: already loaded from the same content ({path}); the marts are not built from it yet")
        if todo is Plan.LOAD:
            say(load_dataset(client, path, dataset=name).summary())
        if todo is not Plan.SERVE:
            say(build_marts().summary())
    except BaseException:
        client.close()
        raise
    return name, client


def explorer_url(service: Service, dataset: str) -> str:
    """The explorer's page showing `dataset`."""
    return f"{service.url}/?{urlencode({'dataset': dataset})}"


def can_open_browser(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """A browser can be shown: always on macOS and Windows, on other systems only with a graphical display
    (without one, Python's webbrowser would start a text browser inside this terminal)."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def launch(path: Path, *, dataset: str | None, host: str, port: int, threads: int, browser: bool) -> None:
    """Prepare the study, serve it, print the URL, open it in a browser; return once stopped (Ctrl-C)."""

    def say(line: str) -> None:
        print(line, flush=True)

    started = time.perf_counter()
    name, engine = prepare(path, dataset, say=say)
    try:
        service = start(host=host, port=port, threads=threads)
    finally:
        engine.close()
    url = explorer_url(service, name)
    say(f"serving {name} at {url} (ready in {time.perf_counter() - started:.1f} s; Ctrl-C stops)")
    if browser and can_open_browser():
        webbrowser.open(url)
    service.run()
    say("stopped; the store is released")
