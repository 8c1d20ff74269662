"""The per-app state the views share (config, engine clients, catalog), reached through `get_gateway()`.

Like the Flask tutorial's `get_db()`: routes import this module, never the app module that registers them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Flask, current_app

from gateway.catalog import Catalog
from gateway.clients import ClientPool
from gateway.config import GatewayConfig

EXTENSION = "genostream"


@dataclass
class Gateway:
    """Per-app state shared by the views."""

    config: GatewayConfig
    pool: ClientPool
    catalog: Catalog
    _table_functions: frozenset[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def table_functions(self) -> frozenset[str]:
        """The engine's table function names (refused as ordinary functions in /sql), read once."""
        with self._lock:
            if self._table_functions is None:
                rows = self.pool.fetch("SELECT name FROM system.table_functions")
                self._table_functions = frozenset(r["name"] for r in rows)
            return self._table_functions

    def close(self) -> None:
        """Close every engine client (releases the embedded store)."""
        self.pool.close()


def init_app(app: Flask, config: GatewayConfig) -> Gateway:
    """Attach a fresh state to `app`; no engine client is opened until a thread first needs one."""
    pool = ClientPool(config)
    state = app.extensions[EXTENSION] = Gateway(config, pool, Catalog(pool, config.catalog_ttl_s))
    return state


def get_gateway(app: Flask | None = None) -> Gateway:
    """The state of `app` (default: the app handling the current request)."""
    state: Gateway = (app or current_app).extensions[EXTENSION]
    return state
