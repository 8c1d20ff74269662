"""The application factory: config, engine clients, blueprints, error handlers, access log."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from gateway.accesslog import AccessLog
from gateway.catalog import Catalog
from gateway.clients import ClientPool
from gateway.config import GatewayConfig
from gateway.errors import register_error_handlers

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


def gateway() -> Gateway:
    return current_app.extensions[EXTENSION]


def create_app(config: GatewayConfig | Mapping[str, Any] | None = None) -> Flask:
    """A gateway app; `config` is a GatewayConfig or overrides of GatewayConfig.from_env().

    No engine client is opened here: each worker thread opens its own on first use, and
    `app.extensions["genostream"].close()` closes them all.
    """
    settings = config if isinstance(config, GatewayConfig) else GatewayConfig.from_env(config)
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    pool = ClientPool(settings)
    app.extensions[EXTENSION] = Gateway(settings, pool, Catalog(pool, settings.catalog_ttl_s))

    from gateway.routes import BLUEPRINTS

    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
    return app
