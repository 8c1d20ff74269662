"""GET /health: 200 when the marts are whole, 503 with the reason otherwise — from the last marts check, so
it answers at once even while every worker and the engine are busy (see gateway.integrity)."""

from __future__ import annotations

from flask import Blueprint, jsonify

import genostream
from gateway.http.endpoint import endpoint
from gateway.schemas import HealthResponse
from gateway.state import get_gateway

bp = Blueprint("health", __name__)


@endpoint(
    bp,
    "/health",
    "GET",
    summary="Is the store reachable and are the marts built and whole?",
    tag="meta",
    response=HealthResponse,
    errors=(503,),
)
def health():
    gw = get_gateway()
    status = gw.marts.status()
    if not status.ok:
        response = jsonify({"status": "unavailable", "error": status.problem})
        response.status_code = 503
        return response
    return HealthResponse(
        status="ok",
        engine=gw.config.engine.target,
        version=genostream.__version__,
        engine_version=status.engine_version,
        datasets=list(status.datasets),
    )
