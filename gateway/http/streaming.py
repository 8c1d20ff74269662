"""Streamed exports: the engine's blocks encoded and sent as they come, with honest endings.

- The time limit applies to the engine's work (the time spent waiting for its next block, `query_timeout_s`),
  not to the client's reading; a slow client is bounded separately by `export_timeout_s` (wall clock, the
  engine's own max_execution_time on the stream handle) and by waitress's idle timeout.
- An export that fails half-way raises inside the response body, so waitress closes the connection without
  the chunked stream's terminating chunk: every HTTP/1.1 client sees an incomplete body, never a complete-
  looking 200. HTTP/1.0 has no chunking (a cut body looks complete), so for it the export is encoded in full
  first (spooled to disk) and sent with its Content-Length — or answered with a JSON error.
- The stream's engine client is thrown away unless the stream was read to its end (see gateway.clients).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from clickhouse_connect.driver.exceptions import ClickHouseError
from flask import Response, request

from gateway.clients import ClientPool, api_error_for, as_api_errors
from gateway.errors import QueryTimeout
from gateway.http.spool import Spool

Encoder = Callable[[Iterable[Any]], Iterator[bytes]]


def engine_timed(blocks: Iterator[Any], budget_s: float) -> Iterator[Any]:
    """`blocks`, stopped with a 504-style error once the engine has spent `budget_s` producing them."""
    spent = 0.0
    while True:
        started = time.monotonic()
        try:
            block = next(blocks)
        except StopIteration:
            return
        spent += time.monotonic() - started
        if spent > budget_s:
            raise QueryTimeout(
                f"the export exceeded the engine time limit of {budget_s:g} s; ask for fewer genes or cells"
            )
        yield block


class _Body:
    """The response body: closes the engine stream when done, and throws its client away unless complete.

    A class with `close()` rather than a generator, so the stream is closed even when the body is never
    iterated (a client gone before the first byte)."""

    def __init__(self, pool: ClientPool, stream: Any, chunks: Iterator[bytes]) -> None:
        self._pool = pool
        self._stream = stream
        self._chunks = chunks
        self._complete = False
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._chunks
        except ClickHouseError as exc:
            raise api_error_for(exc, timeout_s=self._pool.config.query_timeout_s) from None
        self._complete = True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._stream.__exit__(None, None, None)
        finally:
            if not self._complete:
                self._pool.discard("stream")


def export(pool: ClientPool, sql: str, params: dict[str, Any], encoder: Encoder, mimetype: str) -> Response:
    """Run `sql` on this thread's stream client and answer with `encoder(blocks)` as the body."""
    with as_api_errors(timeout_s=pool.config.query_timeout_s), pool.using("stream") as client:
        # Opened here, in the view, so a query the engine refuses at once still gets its status code.
        stream = client.query_column_block_stream(sql, parameters=params)
        blocks = stream.__enter__()
    body = _Body(pool, stream, encoder(engine_timed(iter(blocks), pool.config.query_timeout_s)))
    if request.environ.get("SERVER_PROTOCOL") != "HTTP/1.0":
        return Response(body, mimetype=mimetype)
    spool = Spool(pool.config.spool_memory_bytes)
    try:
        spool.extend(body)
    except BaseException:
        spool.close()
        raise
    finally:
        body.close()
    return spool.response(mimetype)
