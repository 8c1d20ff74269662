"""API errors: each becomes a JSON body `{"error": "<one sentence>", ...}` with its HTTP status."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from genostream.errors import GenostreamError, StoreLockedError, StoreUnavailableError

log = logging.getLogger(__name__)


class ApiError(GenostreamError):
    """An error meant for the HTTP client; `extra` fields are merged into the JSON body."""

    status = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}

    def with_field(self, name: str) -> ApiError:
        """Name the request field the error is about (kept in the JSON body as `field`)."""
        self.extra["field"] = name
        return self


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


class PayloadTooLarge(ApiError):
    status = 413


class NotAcceptable(ApiError):
    status = 406


class Unavailable(ApiError):
    status = 503


class Busy(Unavailable):
    """Every turn for analysts' SQL is taken (503; the ClickHouse port says TOO_MANY_SIMULTANEOUS_QUERIES)."""


class QueryTimeout(ApiError):
    status = 504


class InternalError(ApiError):
    status = 500


def close_matches(word: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """Candidates that look like `word` (case-insensitive), best first, for 'did you mean' hints."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    folded = word.casefold()
    hits = [c for f, c in by_folded.items() if f == folded]
    hits += [by_folded[f] for f in difflib.get_close_matches(folded, by_folded, n=n, cutoff=0.6)]
    hits += [c for f, c in by_folded.items() if folded and f.startswith(folded)]
    return list(dict.fromkeys(hits))[:n]


def unknown(kind: str, name: str, candidates: Iterable[str], *, dataset: str | None = None) -> NotFound:
    """A 404 for an unknown gene / cell type / dataset, suggesting close matches."""
    suggestions = close_matches(name, candidates)
    where = f" in dataset {dataset!r}" if dataset else ""
    hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    return NotFound(f"unknown {kind} {name!r}{where}{hint}", value=name, suggestions=suggestions)


def _json(status: int, body: dict[str, Any]):
    response = jsonify(body)
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Every failure leaves as JSON with one sentence; never a traceback, never HTML."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return _json(exc.status, exc.body())

    @app.errorhandler(StoreLockedError)
    @app.errorhandler(StoreUnavailableError)
    def _store_error(exc: GenostreamError):
        return _json(503, {"error": str(exc)})

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {
            404: "no such endpoint; see /openapi.json or /docs",
            405: "method not allowed for this endpoint; see /openapi.json",
            413: f"request body too large (limit {app.config.get('MAX_CONTENT_LENGTH')} bytes)",
        }
        message = messages.get(exc.code or 500) or (exc.description or exc.name).split("\n")[0]
        return _json(exc.code or 500, {"error": message})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error while handling a request")
        return _json(500, {"error": f"internal error ({type(exc).__name__}); the gateway log has details"})
