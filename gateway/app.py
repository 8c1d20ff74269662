"""The application factory: config, engine clients, blueprints, error handlers, access log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from gateway.config import GatewayConfig
from gateway.errors import register_error_handlers
from gateway.http.accesslog import AccessLog
from gateway.integrity import init_app as check_marts_before_requests
from gateway.routes import BLUEPRINTS
from gateway.state import init_app


def create_app(config: GatewayConfig | Mapping[str, Any] | None = None) -> Flask:
    """A gateway app; `config` is a GatewayConfig or overrides of GatewayConfig.from_env().

    No engine client is opened here: each worker thread opens its own on first use, and
    `app.extensions["genostream"].close()` closes them all.
    """
    settings = config if isinstance(config, GatewayConfig) else GatewayConfig.from_env(config)
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # Flask types app.json as the base provider
    state = init_app(app, settings)
    check_marts_before_requests(app, state.marts)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]  # Flask's middleware pattern
    return app
