"""What a ClickHouse HTTP request asks for: credentials, query text, output format, parameters, settings.

As ClickHouse reads it: the query is the `query` parameter, then a newline, then the body (either may be
absent); credentials come from basic auth, X-ClickHouse-User/-Key headers or user/password parameters;
`param_<name>` values bind `{name:Type}` placeholders; every other parameter is a setting. Settings the port
cannot honour differently from its fixed ones are refused as a read-only server refuses them (READONLY).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from gateway.clickhouse_http import codecs, formats
from gateway.clickhouse_http.errors import ClickHouseException

# Parameters a client sends that change only how the answer travels, or that every query here already has;
# accepted (and otherwise ignored: the guard's limits and the engine's defaults stay as they are).
TRANSPORT = frozenset(
    {
        "query",
        "user",
        "password",
        "quota_key",
        "database",
        "default_format",
        "query_id",
        "session_id",
        "session_timeout",
        "session_check",
        "compress",
        "decompress",
        "enable_http_compression",
        "http_zlib_compression_level",
        "wait_end_of_query",
        "buffer_size",
        "send_progress_in_http_headers",
        "http_headers_progress_interval_ms",
        "cancel_http_readonly_queries_on_client_close",
        "client_protocol_version",
        "date_time_input_format",
    }
)
DATABASES = frozenset({"", "marts", "default"})  # `default` is what clients send unless told otherwise
PARAM_PREFIX = "param_"


@dataclass(frozen=True)
class PortRequest:
    """One request of the ClickHouse HTTP protocol, read and checked."""

    query: str
    default_format: str = formats.DEFAULT
    query_id: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    compression: str | None = None


def credentials(request: Request) -> tuple[str, str]:
    """(user, password) the way ClickHouse takes them; `default` with no password when none are given."""
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ClickHouseException.named(
                "AUTHENTICATION_FAILED", "the Authorization header is not valid basic auth"
            ) from None
        return user, password
    if "X-ClickHouse-User" in request.headers or "X-ClickHouse-Key" in request.headers:
        return request.headers.get("X-ClickHouse-User", "default"), request.headers.get(
            "X-ClickHouse-Key", ""
        )
    return request.args.get("user", "default"), request.args.get("password", "")


def _fields(request: Request, max_bytes: int) -> tuple[MultiDict[str, str], str]:
    """The URL parameters plus any form fields, and the body's text (empty for a form)."""
    values: MultiDict[str, str] = MultiDict(request.args)
    if request.mimetype == "multipart/form-data":
        if request.files:
            raise ClickHouseException.named(
                "NOT_IMPLEMENTED", "external data (file parts) is not accepted here"
            )
        values.update(request.form)
        return values, ""
    try:
        body = codecs.decode(
            request.get_data(cache=False), request.headers.get("Content-Encoding"), max_bytes
        )
    except codecs.BodyTooLarge as exc:
        raise ClickHouseException.named("QUERY_IS_TOO_LARGE", str(exc)) from None
    except ValueError as exc:
        raise ClickHouseException.named("UNKNOWN_CODEC", str(exc)) from None
    try:
        return values, body.decode()
    except UnicodeDecodeError:
        raise ClickHouseException.named("SYNTAX_ERROR", "the query is not valid UTF-8") from None


def _check_settings(values: MultiDict[str, str]) -> None:
    for name in values:
        if name in TRANSPORT or name.startswith(PARAM_PREFIX):
            continue
        if name == "readonly" and values[name] in ("1", "2"):
            continue
        raise ClickHouseException.named(
            "READONLY",
            f"Cannot modify '{name}' setting in readonly mode: this port runs every query with the fixed "
            "limits of the gateway's /sql",
        )


def read(request: Request, *, max_bytes: int) -> PortRequest:
    """The request's query and options (the caller checks `credentials` before this reads the body)."""
    values, body = _fields(request, max_bytes)
    _check_settings(values)
    database = request.headers.get("X-ClickHouse-Database", values.get("database", ""))
    if database not in DATABASES:
        raise ClickHouseException.named(
            "UNKNOWN_DATABASE", f"Database {database} does not exist here: this port serves the marts only"
        )
    head = values.get("query", "")
    query = f"{head}\n{body}" if head and body else head or body
    default = request.headers.get("X-ClickHouse-Format") or values.get("default_format") or formats.DEFAULT
    compressed = values.get("enable_http_compression", "1") not in ("0", "false", "False")
    return PortRequest(
        query=query,
        default_format=default,
        query_id=values.get("query_id", ""),
        parameters={k[len(PARAM_PREFIX) :]: v for k, v in values.items() if k.startswith(PARAM_PREFIX)},
        compression=codecs.negotiate(request.headers.get("Accept-Encoding")) if compressed else None,
    )
