"""Declared endpoints: one decorator validates the request with pydantic models, serialises the response
model, and records what /openapi.json says about the endpoint — so the docs cannot drift from the code."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, TypeAdapter, ValidationError

from gateway.errors import BadRequest, UnsupportedMediaType
from gateway.schemas import _encodable

JSON = "application/json"


@dataclass(frozen=True)
class EndpointSpec:
    """What the OpenAPI document says about one route."""

    method: str
    summary: str
    tag: str
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    media_types: tuple[str, ...] = (JSON,)
    errors: tuple[int, ...] = (400, 404, 503, 504)
    path_params: dict[str, str] = field(default_factory=dict)


def validation_message(exc: ValidationError) -> tuple[str, str]:
    """(field, one sentence) for the first problem pydantic found."""
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in first["loc"]) or "body"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown field"
    return loc, f"{loc}: {message[0].lower()}{message[1:]}"


def _validate(model: type[BaseModel], data: Any) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        loc, message = validation_message(exc)
        raise BadRequest(message, field=loc) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body validated by `model`; 400 naming the field otherwise.

    Only `application/json` is read: a page on another site can POST text/plain, form and multipart bodies
    without asking (no CORS preflight), but not JSON, so this keeps other sites' pages from running
    queries on a gateway the user can reach (415 otherwise)."""
    if request.mimetype != JSON:
        given = request.mimetype or "none"
        raise UnsupportedMediaType(f"Content-Type must be {JSON} (got {given})", field="Content-Type")
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("request body is not valid JSON", field="body") from None
    except RecursionError:  # Python's JSON parser recurses once per level of [ or {
        raise BadRequest("request body is nested too deeply", field="body") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object", field="body")
    return _validate(model, data)


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Query-string arguments validated by `model`; list fields take repeated arguments (?a=x&a=y)."""
    data: dict[str, Any] = {}
    for name in request.args:
        info = model.model_fields.get(name)
        annotation = str(info.annotation) if info is not None else ""
        data[name] = request.args.getlist(name) if annotation.startswith("list") else request.args[name]
    return _validate(model, data)


def json_response(payload: Any, status: int = 200, *, exclude: Any = None) -> Response:
    """Serialise a response model (NaN/inf become null, as JSON requires); `exclude` leaves fields out (as
    pydantic's model_dump_json)."""
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json(exclude_none=False, exclude=exclude)
    else:
        body = TypeAdapter(type(payload)).dump_json(payload).decode()
    return current_app.response_class(body, status=status, mimetype=JSON)


def endpoint(
    bp: Blueprint,
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    description: str = "",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    media_types: tuple[str, ...] = (JSON,),
    errors: tuple[int, ...] = (400, 404, 503, 504),
    path_params: dict[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `rule` on `bp`; the view receives path parameters plus `body=` / `query=` models."""
    if body is not None and 415 not in errors:
        errors = (*errors, 415)
    spec = EndpointSpec(
        method, summary, tag, description, body, query, response, media_types, errors, path_params or {}
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def handle(**path: str) -> Any:
            for name, value in path.items():
                try:
                    _encodable(value)
                except ValueError:
                    raise BadRequest(f"{name}: must be valid Unicode text", field=name) from None
            kwargs: dict[str, Any] = dict(path)
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            result = view(**kwargs)
            return result if isinstance(result, Response) else json_response(result)

        handle.__dict__["api_spec"] = spec  # read by gateway.http.openapi
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=handle, methods=[method])
        return handle

    return decorate
