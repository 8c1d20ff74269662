"""The waitress server the gateway runs in, set up so that slow, idle or hostile clients cannot stop it.

- `connection_limit` (default 1000, waitress's own is 100) and `channel_timeout_s` (default 30 s, waitress's
  is 120 s): a hundred idle or half-sent connections no longer fill the server; they are dropped after the
  timeout. poll() instead of select(), which cannot watch more than 1024 sockets.
- Connections are gateway.http.channel's: a worker gives up on a client that stops reading (idle limit, or
  the response's own deadline), and waitress's own error answers are JSON.
- Lanes of workers, so that no kind of request can take every worker:
  - express: GET /health and waitress's own error answers, on a thread of their own (they do not touch the
    engine), so /health answers while every worker is busy;
  - exports (POST /expression-matrix) and sql (POST /sql), whose answers may be long or large, on
    `bulk_threads` workers each — clients that read their answers slowly, or never, wait for each other
    there, and stalled exports do not hold up /sql or the other way round;
  - main: every other (short) question, on `threads` workers.
  Another socket on the same loop (the ClickHouse port, `add_listener`) names the lane all its requests take:
  the port's are analysts' SQL, so they share the sql lane and never hold the short questions' workers.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.task import ThreadedTaskDispatcher

from gateway.config import GatewayConfig
from gateway.http.channel import BoundedChannel
from gateway.http.crosssite import allow_hosts

EXPRESS_PATHS = frozenset({("GET", "/health")})
BULK_LANES = {("POST", "/expression-matrix"): "exports", ("POST", "/sql"): "sql"}
CLEANUP_INTERVAL_S = 5
# waitress's default (16 MiB) per connection: a worker writing to a client that does not read waits (and
# is bounded by the channel's limits) after 1 MiB instead.
OUTBUF_HIGH_WATERMARK = 1 << 20


class LaneDispatcher(ThreadedTaskDispatcher):
    """waitress's task queue, split into the lanes of the module docstring (this one is the main lane)."""

    def __init__(self, threads: int, bulk_threads: int, express_threads: int = 1) -> None:
        super().__init__()
        self.lanes: dict[str, ThreadedTaskDispatcher] = {}
        # Sockets whose every request takes one lane (see add_listener), by listener.
        self.listener_lanes: dict[Any, str] = {}
        for lane, count in [("express", express_threads), *((n, bulk_threads) for n in BULK_LANES.values())]:
            self.lanes[lane] = ThreadedTaskDispatcher()
            self.lanes[lane].set_thread_count(count)
        self.set_thread_count(threads)

    def add_task(self, task: Any) -> None:
        # `task` is a waitress channel; the request it is about to serve is the first of its queue. A request
        # waitress refused (request.error) lacks the request line's attributes.
        requests = getattr(task, "requests", None)
        first = requests[0] if requests else None
        key = (str(getattr(first, "command", "")), str(getattr(first, "path", "")))
        listener_lane = self.listener_lanes.get(getattr(task, "server", None))
        if first is not None and (first.error is not None or key in EXPRESS_PATHS):
            self.lanes["express"].add_task(task)
        elif listener_lane is not None:
            self.lanes[listener_lane].add_task(task)
        elif key in BULK_LANES:
            self.lanes[BULK_LANES[key]].add_task(task)
        else:
            super().add_task(task)

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        for lane in self.lanes.values():
            lane.shutdown(cancel_pending, timeout)
        return bool(super().shutdown(cancel_pending, timeout))


def _listeners(server: BaseWSGIServer | MultiSocketServer) -> list[BaseWSGIServer]:
    if isinstance(server, BaseWSGIServer):
        return [server]
    dispatchers: list[Any] = list((server.map or {}).values())  # the stubs say sockets; they are servers
    return [d for d in dispatchers if isinstance(d, BaseWSGIServer)]


def _limits(config: GatewayConfig) -> dict[str, Any]:
    """waitress's settings for every socket of the gateway: the connection limits above, poll(), and the
    output high-water mark past which a writer waits (bounded by the channel)."""
    return {
        "connection_limit": config.connection_limit,
        "channel_timeout": config.channel_timeout_s,
        "cleanup_interval": CLEANUP_INTERVAL_S,
        "asyncore_use_poll": True,
        "outbuf_high_watermark": OUTBUF_HIGH_WATERMARK,
    }


def _bound_channels(server: BaseWSGIServer | MultiSocketServer) -> None:
    for listener in _listeners(server):
        listener.channel_class = BoundedChannel


def make_server(
    app: Flask, config: GatewayConfig, *, host: str, port: int, threads: int, **adjustments: Any
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for `app` with the gateway's limits (not started); `adjustments` are more of
    waitress's settings (e.g. outbuf_high_watermark). The address it binds to joins the Host allow-list."""
    allow_hosts(app, [host])
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        # waitress documents `_dispatcher` as a test hook; it is the one way to give requests lanes.
        _dispatcher=LaneDispatcher(threads, config.bulk_threads),
        **{**_limits(config), **adjustments},
    )
    _bound_channels(server)
    return server


def add_listener(
    server: BaseWSGIServer | MultiSocketServer,
    socket_map: dict[int, Any],
    app: Any,
    config: GatewayConfig,
    *,
    host: str,
    port: int,
    lane: str = "sql",
) -> BaseWSGIServer | MultiSocketServer:
    """Another socket serving `app` on `server`'s I/O loop (`socket_map`, the map `server` was made with) and
    worker threads, with the same connection limits and bounded channels, every request on `lane`: one process
    (the embedded store admits no other), and `server.run()` serves both."""
    dispatcher = server.task_dispatcher
    assert isinstance(dispatcher, LaneDispatcher)  # make_server's
    other = create_server(
        app,
        map=socket_map,
        _dispatcher=dispatcher,
        host=host,
        port=port,
        **_limits(config),
    )
    _bound_channels(other)
    for listener in _listeners(other):
        dispatcher.listener_lanes[listener] = lane
    return other
