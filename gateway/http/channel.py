"""waitress's connection handling, bounded: a worker never waits on a client longer than the limits allow,
and every answer waitress writes itself is JSON.

- A worker writing to a client that does not read waits while the connection's output buffers are above
  waitress's high-water mark. waitress waits for ever there (its idle timeout spares a connection with a
  request in progress), so eight clients that never read held eight workers until they disconnected. Here
  the wait ends, and the connection is closed, once nothing has been sent for `channel_timeout` or the
  response's own deadline (set by the app through `environ[LIMIT_RESPONSE]`, e.g. an export's wall-clock
  limit) has passed.
- waitress answers malformed requests (400, 431, 501) and failures before the first byte (500) itself, as
  plain text; here as `{"error": ...}` like every other error of the gateway.
"""

from __future__ import annotations

import json
import socket
import time
from contextlib import suppress
from typing import Any, NoReturn, cast

from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error

# A callable in the WSGI environ: `environ[LIMIT_RESPONSE](seconds)` bounds how long sending this response may
# take from now, however slowly the client reads.
LIMIT_RESPONSE = "genostream.limit_response"
# How often a waiting writer looks at the limits again: the I/O loop wakes it only when it has sent something.
WAIT_STEP_S = 0.5


def error_body(error: Error) -> bytes:
    """waitress's error as the gateway's JSON error body."""
    detail = str(error.body).strip().splitlines()
    message = f"{error.reason.lower()}: {detail[0]}" if detail else error.reason.lower()
    return json.dumps({"error": message}).encode()


class JsonErrorTask(ErrorTask):
    """waitress's error response, with a JSON body."""

    def execute(self) -> None:
        error: Error = self.request.error  # type: ignore[attr-defined]  # the stubs type the request as Error
        body = error_body(error)
        self.status = f"{error.code} {error.reason}"
        self.response_headers = [("Content-Type", "application/json")]
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class BoundedTask(WSGITask):
    """waitress's WSGI task, offering the app `environ[LIMIT_RESPONSE]`."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[LIMIT_RESPONSE] = cast(BoundedChannel, self.channel).limit_response
        return environ


class BoundedChannel(HTTPChannel):
    """waitress's HTTP connection whose writers give up on clients that stop reading."""

    task_class = BoundedTask
    error_task_class = JsonErrorTask
    response_deadline: float | None = None

    def service(self) -> None:
        self.response_deadline = None
        super().service()

    def limit_response(self, seconds: float) -> None:
        """Bound sending the current response to `seconds` from now (the app calls it through the environ)."""
        self.response_deadline = time.time() + seconds

    def write_soon(self, data: Any) -> int:
        self._wait_for_room()
        return super().write_soon(data)

    def _wait_for_room(self) -> None:
        """Wait while the output is above the high-water mark, up to the idle limit or the deadline."""
        with self.outbuf_lock:
            while self.connected and self.total_outbufs_len > self.adj.outbuf_high_watermark:
                limit = self.last_activity + self.adj.channel_timeout
                if self.response_deadline is not None:
                    limit = min(limit, self.response_deadline)
                remaining = limit - time.time()
                if remaining <= 0:
                    self._give_up()
                self.server.pull_trigger()
                self.outbuf_lock.wait(min(remaining, WAIT_STEP_S))

    def _give_up(self) -> NoReturn:
        # The I/O loop only handles a socket the client lets it write to or read from: shutting it down
        # here wakes it (poll reports the hang-up) to close the connection; this worker leaves at once.
        self.will_close = True
        if self.socket is not None:
            with suppress(OSError):
                self.socket.shutdown(socket.SHUT_RDWR)
        self.server.pull_trigger()
        raise ClientDisconnected("the client did not read its answer within the limits")
