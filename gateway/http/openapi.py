"""The OpenAPI 3.1 document, generated from the declared endpoints and their pydantic models."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, JsonSchemaValue, models_json_schema

import genostream
from gateway.http.endpoint import JSON, EndpointSpec
from gateway.schemas import ErrorResponse

REF = "#/components/schemas/{model}"
ModelRefs = dict[tuple[Any, JsonSchemaMode], JsonSchemaValue]
_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")

ERROR_TEXT = {
    400: "malformed input (the field is named)",
    404: "unknown dataset, gene or cell type (close matches suggested)",
    406: "none of the Accept types can be produced",
    413: "request too large",
    503: "store unavailable or locked by another process",
    504: "query timeout",
}


def _specs(app: Flask) -> list[tuple[str, EndpointSpec]]:
    found = []
    for rule in app.url_map.iter_rules():
        spec = getattr(app.view_functions.get(rule.endpoint), "api_spec", None)
        if spec is not None:
            found.append((_CONVERTER.sub(r"{\1}", rule.rule), spec))
    return sorted(found, key=lambda item: item[0])


def _schemas(specs: list[EndpointSpec]) -> tuple[ModelRefs, dict[str, Any]]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorResponse, "serialization")]
    for spec in specs:
        models += [(m, "validation") for m in (spec.body, spec.query) if m is not None]
        if spec.response is not None:
            models.append((spec.response, "serialization"))
    refs, definitions = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    return refs, definitions.get("$defs", {})


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if prop.get("description"):
            param["description"] = prop["description"]
        if prop.get("type") == "array":
            param.update(style="form", explode=True)
        params.append(param)
    return params


def build_openapi(app: Flask) -> dict[str, Any]:
    """The whole document for `app`'s declared routes."""
    specs = _specs(app)
    refs, schemas = _schemas([spec for _, spec in specs])
    error_ref = refs[(ErrorResponse, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for path, spec in specs:
        operation: dict[str, Any] = {
            "summary": spec.summary,
            "tags": [spec.tag],
            "operationId": _op_id(path, spec),
        }
        if spec.description:
            operation["description"] = spec.description
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
                "description": text,
            }
            for name, text in spec.path_params.items()
        ]
        if spec.query is not None:
            parameters += _query_parameters(spec.query)
        if parameters:
            operation["parameters"] = parameters
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": refs[(spec.body, "validation")]}},
            }
        ok: dict[str, Any] = {"description": "OK"}
        if spec.response is not None:
            content = {JSON: {"schema": refs[(spec.response, "serialization")]}}
            content.update(
                {m: {"schema": {"type": "string", "format": "binary"}} for m in spec.media_types if m != JSON}
            )
            ok["content"] = content
        elif spec.media_types:
            ok["content"] = {m: {"schema": {}} for m in spec.media_types}
        responses: dict[str, Any] = {"200": ok}
        for status in spec.errors:
            responses[str(status)] = {
                "description": ERROR_TEXT.get(status, "error"),
                "content": {JSON: {"schema": error_ref}},
            }
        operation["responses"] = responses
        paths.setdefault(path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "genostream gateway",
            "version": genostream.__version__,
            "description": "Exact single-cell expression statistics computed in ClickHouse from the marts. "
            "Every statistic is over all cells of the chosen group, zeros included.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _op_id(path: str, spec: EndpointSpec) -> str:
    words = re.findall(r"[a-zA-Z]+", path)
    return spec.method.lower() + "".join(w.capitalize() for w in words)
