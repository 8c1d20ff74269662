"""One access-log line per request, written when the response has been fully sent (streams included).

A body that failed half-way is logged as `<status> aborted` with the reason: the status line had already
gone out, so the log must not claim a complete 200.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger("gateway.access")


class _Measured:
    """Wraps a WSGI response iterable: counts bytes, logs on close."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[int, str], None]) -> None:
        self._body = body
        self._finish = finish
        self._bytes = 0
        self._aborted = ""

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._body:
                self._bytes += len(chunk)
                yield chunk
        except GeneratorExit:
            self._aborted = "aborted (client gone)"
            raise
        except BaseException as exc:
            self._aborted = f"aborted ({getattr(exc, 'message', type(exc).__name__)})"
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish(self._bytes, self._aborted)


class AccessLog:
    """WSGI middleware: `<client> "<method> <path>" <status> <bytes>B <ms>ms`."""

    def __init__(self, app: Callable[..., Iterable[bytes]], *, query_string: bool = True) -> None:
        self.app = app
        self.query_string = query_string  # off where the query string can hold a password (ClickHouse port)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        status_box: list[str] = ["-"]

        def recording_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            status_box[0] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        def finish(size: int, aborted: str) -> None:
            elapsed = (time.perf_counter() - started) * 1000
            query = environ.get("QUERY_STRING") if self.query_string else None
            target = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            log.info(
                '%s "%s %s" %s %dB %.1fms%s',
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD"),
                target,
                status_box[0],
                size,
                elapsed,
                f" {aborted}" if aborted else "",
            )

        return _Measured(self.app(environ, recording_start_response), finish)
