"""The pages: GET / (the explorer), GET /docs (Swagger UI) and GET /openapi.json (generated from the models).

Both pages use only the local assets under static/ (vendored at pinned versions), so they work offline.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request, send_from_directory

from gateway.http.openapi import build_openapi

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi_document():
    document = current_app.config.get("OPENAPI_DOCUMENT")
    if document is None:
        document = current_app.config["OPENAPI_DOCUMENT"] = build_openapi(current_app)
    return jsonify(document)


def _page(name: str):
    response = send_from_directory(current_app.static_folder or "static", name)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/docs")
def interactive_docs():
    return _page("docs.html")


@bp.get("/")
def index():
    """The explorer for browsers; a JSON pointer to the API for clients that ask for JSON."""
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return jsonify({"service": "genostream gateway", "openapi": "/openapi.json", "docs": "/docs"})
    return _page("index.html")
