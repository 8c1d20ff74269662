"""`python -m gateway --host H --port P [--threads N]`: serve the API with waitress."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType
from typing import Any

from gateway.app import create_app
from gateway.clickhouse_http.app import ClickHousePort
from gateway.config import GatewayConfig
from gateway.errors import ApiError
from gateway.http.accesslog import AccessLog
from gateway.http.server import add_listener, make_server
from gateway.state import get_gateway
from genostream.errors import GenostreamError

log = logging.getLogger("gateway")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Serve the genostream HTTP API.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    return parser


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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads < 1 or not 0 <= args.port <= 65535:
        print("gateway: --threads must be ≥ 1 and --port within 0..65535", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        app = create_app()
        state = get_gateway(app)
        # Open the store now: a store held by another process must stop us here, not at the first request.
        state.pool.main()
        port_app = ClickHousePort(state) if state.config.clickhouse_port is not None else None
        marts = state.marts.start()
    except GenostreamError as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        print(f"gateway: {message}", file=sys.stderr)
        return 1
    socket_map: dict[int, Any] = {}
    try:
        server = make_server(
            app, state.config, host=args.host, port=args.port, threads=args.threads, map=socket_map
        )
        if port_app is not None:
            _listen_clickhouse(server, socket_map, port_app, state.config, args.host)
    except OSError as exc:
        state.close()
        print(f"gateway: cannot listen on {args.host}: {exc.strerror}", file=sys.stderr)
        return 1
    if not marts.ok:
        log.warning("serving 503 on data endpoints until the marts are whole: %s", marts.problem)
    # Hand the GIL over every 1 ms (Python's default is 5 ms): waitress's I/O loop and the /health lane then
    # wait at most a few ms behind busy workers, not tens.
    sys.setswitchinterval(0.001)
    signal.signal(signal.SIGTERM, _stop)
    log.info(
        "serving on http://%s:%s with %d threads (store: %s)",
        args.host,
        server.effective_port,  # type: ignore[union-attr]  # types-waitress lacks effective_port
        args.threads,
        state.config.engine.location,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        server.close()
        state.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
