"""`python -m gateway --host H --port P [--threads N]`: serve the API with waitress."""

from __future__ import annotations

import argparse
import logging
import sys

from gateway.serving import start
from genostream.errors import GenostreamError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="Serve the genostream HTTP API.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.threads < 1 or not 0 <= args.port <= 65535:
        print("gateway: --threads must be ≥ 1 and --port within 0..65535", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        service = start(host=args.host, port=args.port, threads=args.threads)
    except GenostreamError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 1
    service.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
