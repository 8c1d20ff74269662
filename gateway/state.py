"""The per-app state the views share (config, engine clients, catalog), reached through `get_gateway()`.

Like the Flask tutorial's `get_db()`: routes import this module, never the app module that registers them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask, current_app

from gateway.catalog import Catalog, DatasetCatalog
from gateway.clients import ClientPool
from gateway.config import GatewayConfig
from gateway.errors import Busy
from gateway.integrity import MartsMonitor

EXTENSION = "genostream"


@dataclass
class Gateway:
    """Per-app state shared by the views."""

    config: GatewayConfig
    pool: ClientPool
    catalog: Catalog
    marts: MartsMonitor
    sql_turns: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.sql_turns = threading.BoundedSemaphore(self.config.sql_max_concurrent)

    @contextmanager
    def sql_turn(self) -> Iterator[None]:
        """One of the `sql_max_concurrent` turns that analysts' queries (POST /sql and the ClickHouse port)
        share; 503 when none frees up within `sql_queue_timeout_s`."""
        if not self.sql_turns.acquire(timeout=self.config.sql_queue_timeout_s):
            raise Busy(
                f"busy: {self.config.sql_max_concurrent} SQL queries are already running; retry in a moment"
            )
        try:
            yield
        finally:
            self.sql_turns.release()

    def close(self) -> None:
        """Stop the marts check and close every engine client (releases the embedded store)."""
        self.marts.stop()
        self.pool.close()


def init_app(app: Flask, config: GatewayConfig) -> Gateway:
    """Attach a fresh state to `app`; no engine client is opened until a thread first needs one."""
    pool = ClientPool(config)
    monitor = MartsMonitor(pool, config.marts_check_interval_s)
    state = app.extensions[EXTENSION] = Gateway(config, pool, Catalog(pool, config.catalog_ttl_s), monitor)
    return state


def get_gateway(app: Flask | None = None) -> Gateway:
    """The state of `app` (default: the app handling the current request)."""
    state: Gateway = (app or current_app).extensions[EXTENSION]
    return state


def get_dataset(requested: str | None) -> tuple[Gateway, DatasetCatalog]:
    """The current app's state and the catalog of the dataset a request names — the one way every route
    resolves it: the only loaded dataset when `requested` is omitted, 400/404 naming the choices otherwise."""
    gw = get_gateway()
    return gw, gw.catalog.dataset(requested)
