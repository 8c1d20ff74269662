"""GET /openapi.json (generated from the declared models) and GET /docs (local assets, no CDN)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, send_from_directory

from gateway.openapi import build_openapi

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi_document():
    document = current_app.config.get("OPENAPI_DOCUMENT")
    if document is None:
        document = current_app.config["OPENAPI_DOCUMENT"] = build_openapi(current_app)
    return jsonify(document)


@bp.get("/docs")
def interactive_docs():
    return send_from_directory(current_app.static_folder or "static", "docs.html")


@bp.get("/")
def index():
    return jsonify({"service": "genostream gateway", "openapi": "/openapi.json", "docs": "/docs"})
