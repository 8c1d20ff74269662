"""GET /health: 200 when the marts answer, 503 with the reason otherwise."""

from __future__ import annotations

from flask import Blueprint, jsonify

import genostream
from gateway.api import endpoint
from gateway.models import HealthResponse
from gateway.state import get_gateway
from genostream.errors import GenostreamError

bp = Blueprint("health", __name__)


@endpoint(
    bp,
    "/health",
    "GET",
    summary="Is the store reachable and are the marts built?",
    tag="meta",
    response=HealthResponse,
    errors=(503,),
)
def health():
    gw = get_gateway()
    try:
        datasets = sorted(gw.catalog.datasets())
        engine_version = gw.pool.main().server_version
    except GenostreamError as exc:
        response = jsonify({"status": "unavailable", "error": str(exc)})
        response.status_code = 503
        return response
    return HealthResponse(
        status="ok",
        engine="embedded" if gw.config.engine.embedded else "server",
        version=genostream.__version__,
        engine_version=engine_version or "unknown",
        datasets=datasets,
    )
