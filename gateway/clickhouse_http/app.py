"""The port's WSGI application: authenticate, read the request, admit the query through the /sql guard, let
the engine write the answer in the format asked for, and send it complete (spooled) or as an exception.

The port shares /sql's turns (sql_max_concurrent), its sealed engine handle (readonly=1, the time, row, byte
and memory limits), its spool bound and its rule that a handle which saw an error is thrown away.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError, StreamFailureError
from werkzeug.wrappers import Request, Response

from gateway.clickhouse_http import codecs, formats
from gateway.clickhouse_http.errors import ClickHouseException
from gateway.clickhouse_http.request import PortRequest, credentials, read
from gateway.clients import SQL_TIMEZONE
from gateway.errors import ApiError
from gateway.http.spool import Spool
from gateway.sqlguard.port import admit_port
from gateway.state import Gateway
from genostream.errors import ConfigurationError, EngineError

USER = "analyst"
DISPLAY_NAME = "genostream"
CHUNK_BYTES = 1 << 16


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The engine's answer in chunks; the stream is closed however the reading ends."""
    try:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk
    finally:
        stream.close()


class ClickHousePort:
    """ClickHouse's HTTP interface over the gateway's state (one user, read-only, the marts only)."""

    def __init__(self, gateway: Gateway) -> None:
        secret = gateway.config.analyst_password
        if secret is None or not secret.get_secret_value():
            raise ConfigurationError(
                "GENOSTREAM_GATEWAY_ANALYST_PASSWORD must be set to serve the ClickHouse port "
                "(GENOSTREAM_GATEWAY_CLICKHOUSE_PORT): it is the password of the user `analyst`"
            )
        self.gateway = gateway
        self._password = secret.get_secret_value().encode()
        self._facts: tuple[str, str] | None = None

    def server_facts(self) -> tuple[str, str]:
        """(version, timezone) of the engine, asked once."""
        if self._facts is None:
            row = self.gateway.pool.fetch(
                "SELECT version() AS version, timezone() AS timezone",
                settings={"session_timezone": SQL_TIMEZONE},  # the port's queries' zone, not the host's
            )[0]
            self._facts = (str(row["version"]), str(row["timezone"]))
        return self._facts

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = self.gateway.config.max_request_bytes
        query_id = request.args.get("query_id") or str(uuid.uuid4())
        try:
            response = self._dispatch(request, query_id)
        except ClickHouseException as exc:
            response = self._exception(exc, query_id)
        except ApiError as exc:  # the engine unreachable, the gateway shutting down
            response = self._exception(ClickHouseException.from_api_error(exc), query_id)
        return response(environ, start_response)

    def _dispatch(self, request: Request, query_id: str) -> Response:
        if request.path == "/ping" or (
            request.path == "/" and request.method in ("GET", "HEAD") and not request.args
        ):
            return Response("Ok.\n", content_type=formats.TEXT)
        if request.path != "/":  # as ClickHouse answers it: plain text, no exception code
            text = f"There is no handle {request.path}\n\nUse / or /ping for health checks.\n"
            return Response(text, status=404, content_type=formats.TEXT)
        user, password = credentials(request)
        if user != USER or not hmac.compare_digest(password.encode(), self._password):
            raise ClickHouseException.named(
                "AUTHENTICATION_FAILED",
                f"{user}: Authentication failed: password is incorrect, or there is no user with such name",
            )
        port_request = read(request, max_bytes=self.gateway.config.max_request_bytes)
        if not port_request.query.strip():
            raise ClickHouseException.named("SYNTAX_ERROR", "Empty query")
        return self._run(port_request, query_id)

    def _run(self, port_request: PortRequest, query_id: str) -> Response:
        gw = self.gateway
        started = time.perf_counter_ns()
        spool = Spool(gw.config.spool_memory_bytes)
        try:
            with gw.sql_turn(), gw.pool.using("sql") as client:
                admitted = admit_port(client, port_request.query, port_request.parameters)
                name = admitted.output_format or port_request.default_format
                fmt = formats.canonical(name)
                if fmt is None:
                    raise ClickHouseException.named(
                        "UNKNOWN_FORMAT", f"Unknown or refused output format {name}"
                    )
                parameters = dict(admitted.parameters) or None
                stream = client.raw_stream(admitted.sql, parameters=parameters, fmt=fmt)
                # A sync client's stream is a file (the chdb result or urllib3's response).
                spool.extend(codecs.encode(_chunks(cast("IO[bytes]", stream)), port_request.compression))
        except ClickHouseError as exc:
            spool.close()
            raise self._engine_exception(exc) from None
        except ApiError as exc:
            spool.close()
            raise ClickHouseException.from_api_error(exc) from None
        except BaseException:
            spool.close()
            raise
        timezone = self.server_facts()[1]
        response = spool.response(formats.OUTPUT_FORMATS[fmt])
        response.headers["Content-Type"] = formats.OUTPUT_FORMATS[fmt]  # as is: no charset added
        summary = {
            "written_rows": "0",
            "written_bytes": "0",
            "elapsed_ns": str(time.perf_counter_ns() - started),
        }
        response.headers.update(
            {
                "X-ClickHouse-Query-Id": query_id,
                "X-ClickHouse-Format": fmt,
                "X-ClickHouse-Timezone": timezone,
                "X-ClickHouse-Server-Display-Name": DISPLAY_NAME,
                "X-ClickHouse-Summary": json.dumps(summary, separators=(",", ":")),
            }
        )
        if port_request.compression:
            response.headers["Content-Encoding"] = port_request.compression
        return response

    @staticmethod
    def _engine_exception(exc: ClickHouseError) -> ClickHouseException:
        error = EngineError.from_clickhouse(exc)
        if isinstance(exc, OperationalError) and not (isinstance(exc, StreamFailureError) and error.code):
            return ClickHouseException.named(
                "NETWORK_ERROR", f"the engine cannot be reached: {error.message}"
            )
        if error.code is None:
            return ClickHouseException.named("UNKNOWN_EXCEPTION", error.message)
        return ClickHouseException(error.code, error.name or "UNKNOWN_EXCEPTION", error.message)

    def _exception(self, exc: ClickHouseException, query_id: str) -> Response:
        try:
            version = self.server_facts()[0]
        except ApiError:
            version = "unknown"
        response = Response(exc.body(version), status=exc.status, content_type=formats.TEXT)
        response.headers.update(
            {
                "X-ClickHouse-Exception-Code": str(exc.code),
                "X-ClickHouse-Query-Id": query_id,
                "X-ClickHouse-Server-Display-Name": DISPLAY_NAME,
            }
        )
        return response
