"""The application factory: config, cross-site checks, engine clients, blueprints, errors, access log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from gateway.config import GatewayConfig
from gateway.errors import register_error_handlers
from gateway.http.accesslog import AccessLog
from gateway.http.crosssite import init_app as protect_from_other_sites
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
    # No routing redirects: werkzeug answers `//` in a path with an HTML 308 to the merged path; here it is
    # a path like any other (a JSON 404 when nothing matches).
    app.url_map.merge_slashes = False
    protect_from_other_sites(app, settings.allowed_hosts)
    state = init_app(app, settings)
    check_marts_before_requests(app, state.marts)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]  # Flask's middleware pattern
    return app
