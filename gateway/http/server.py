"""The waitress server the gateway runs in, set up so that slow or idle clients cannot stop it.

- `connection_limit` (default 1000, waitress's own is 100) and `channel_timeout_s` (default 30 s, waitress's
  is 120 s): a hundred idle or half-sent connections no longer fill the server; they are dropped after the
  timeout. poll() instead of select(), which cannot watch more than 1024 sockets.
- An express lane: GET /health is served by its own thread, never queued behind the workers, so it answers
  while every worker is busy (it reads the last marts check and does not touch the engine).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer, create_server
from waitress.task import ThreadedTaskDispatcher

from gateway.config import GatewayConfig

EXPRESS_PATHS = frozenset({"/health"})
CLEANUP_INTERVAL_S = 5


class ExpressLaneDispatcher(ThreadedTaskDispatcher):
    """waitress's task queue, except that requests for EXPRESS_PATHS go to a thread of their own."""

    def __init__(self, threads: int, express_threads: int = 1) -> None:
        super().__init__()
        self.express = ThreadedTaskDispatcher()
        self.express.set_thread_count(express_threads)
        self.set_thread_count(threads)

    def add_task(self, task: Any) -> None:
        # `task` is a waitress channel; the request it is about to serve is the first of its queue.
        requests = getattr(task, "requests", None)
        first = requests[0] if requests else None
        if first is not None and first.command == "GET" and first.path in EXPRESS_PATHS:
            self.express.add_task(task)
        else:
            super().add_task(task)

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        self.express.shutdown(cancel_pending, timeout)
        return bool(super().shutdown(cancel_pending, timeout))


def _limits(config: GatewayConfig) -> dict[str, Any]:
    """waitress's settings for every socket of the gateway: the connection limits above, poll()."""
    return {
        "connection_limit": config.connection_limit,
        "channel_timeout": config.channel_timeout_s,
        "cleanup_interval": CLEANUP_INTERVAL_S,
        "asyncore_use_poll": True,
    }


def make_server(
    app: Flask, config: GatewayConfig, *, host: str, port: int, threads: int, **adjustments: Any
) -> BaseWSGIServer | MultiSocketServer:
    """A waitress server for `app` with the gateway's limits (not started); `adjustments` are more of
    waitress's settings (e.g. outbuf_high_watermark)."""
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        **_limits(config),
        # waitress documents `_dispatcher` as a test hook; it is the one way to give /health its own lane.
        _dispatcher=ExpressLaneDispatcher(threads),
        **adjustments,
    )


def add_listener(
    server: BaseWSGIServer | MultiSocketServer,
    socket_map: dict[int, Any],
    app: Any,
    config: GatewayConfig,
    *,
    host: str,
    port: int,
) -> BaseWSGIServer | MultiSocketServer:
    """Another socket serving `app` on `server`'s I/O loop (`socket_map`, the map `server` was made with) and
    worker threads, with the same connection limits: one process (the embedded store admits no other), and
    `server.run()` serves both."""
    return create_server(
        app,
        map=socket_map,
        _dispatcher=server.task_dispatcher,
        host=host,
        port=port,
        **_limits(config),
    )
