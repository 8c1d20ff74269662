"""The gateway as a running service: open the store, listen, serve until Ctrl-C or SIGTERM, release the store.

Shared by `python -m gateway` and `genostream serve` / `launch`, so both start, report and stop the same way.
"""

from __future__ import annotations

import logging
import signal
import sys
from dataclasses import dataclass
from types import FrameType
from typing import Any

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer

from gateway.app import create_app
from gateway.clickhouse_http.app import ClickHousePort
from gateway.config import GatewayConfig
from gateway.errors import ListenError
from gateway.http.accesslog import AccessLog
from gateway.http.server import add_listener, make_server
from gateway.state import Gateway, get_gateway

log = logging.getLogger("gateway")
# Hand the GIL over every 1 ms (Python's default is 5 ms): waitress's I/O loop and the /health lane then wait
# at most a few ms behind busy workers, not tens.
SWITCH_INTERVAL_S = 0.001


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _listen_clickhouse(
    server: Any, socket_map: dict[int, Any], port_app: ClickHousePort, config: GatewayConfig, host: str
) -> None:
    """The ClickHouse port beside the API, on the same loop and threads (its access log without query
    strings: they can hold the password)."""
    assert config.clickhouse_port is not None  # port_app exists only when a port is configured
    app = AccessLog(port_app, query_string=False)
    try:
        listener = add_listener(server, socket_map, app, config, host=host, port=config.clickhouse_port)
    except OSError:
        server.close()
        raise
    log.info(
        "ClickHouse HTTP interface (read-only, user analyst, the marts) on http://%s:%s",
        host,
        listener.effective_port,  # type: ignore[union-attr]  # types-waitress lacks effective_port
    )


@dataclass
class Service:
    """A gateway bound to its port, not yet serving; `run()` serves, `close()` releases port and store."""

    app: Flask
    state: Gateway
    server: BaseWSGIServer | MultiSocketServer
    host: str
    threads: int

    @property
    def port(self) -> int:
        return int(self.server.effective_port)  # type: ignore[union-attr]  # types-waitress lacks it

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def run(self) -> None:
        """Serve until Ctrl-C or SIGTERM (a clean stop, not an error); the store is released either way."""
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        signal.signal(signal.SIGTERM, _stop)
        log.info(
            "serving on %s with %d threads (store: %s)",
            self.url,
            self.threads,
            self.state.config.engine.location,
        )
        try:
            self.server.run()
        except KeyboardInterrupt:
            log.info("stopping")
        finally:
            self.close()

    def close(self) -> None:
        self.server.close()
        self.state.close()


def start(*, host: str, port: int, threads: int) -> Service:
    """Open the store and bind `host:port` (0: any free port).

    Raises
    ------
    GenostreamError
        The store cannot be opened (held by another process, unreachable) or the configuration is invalid.
    ListenError
        The address cannot be listened on.
    """
    app = create_app()
    state = get_gateway(app)
    try:
        # Open the store now: a store held by another process must stop us here, not at the first request.
        state.pool.main()
        port_app = ClickHousePort(state) if state.config.clickhouse_port is not None else None
        marts = state.marts.start()
        socket_map: dict[int, Any] = {}
        server = make_server(app, state.config, host=host, port=port, threads=threads, map=socket_map)
        if port_app is not None:
            _listen_clickhouse(server, socket_map, port_app, state.config, host)
    except OSError as exc:
        state.close()
        raise ListenError(f"cannot listen on {host}: {exc.strerror or exc}") from None
    except BaseException:
        state.close()
        raise
    if not marts.ok:
        log.warning("serving 503 on data endpoints until the marts are whole: %s", marts.problem)
    return Service(app, state, server, host, threads)
