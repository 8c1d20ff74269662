"""The gateway as `python -m gateway` serves it (its waitress setup and limits), in a thread of the test
process, on the session store."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gateway import create_app
from gateway.http.server import make_server
from gateway.serving import SWITCH_INTERVAL_S
from gateway.state import get_gateway


@contextmanager
def serving(
    overrides: dict[str, Any] | None = None, *, threads: int = 1, **adjustments: Any
) -> Iterator[str]:
    """A gateway app on the session store served by waitress (the gateway's own settings) on a free port."""
    app = create_app({"catalog_ttl_s": 0.0, **(overrides or {})})
    state = get_gateway(app)
    state.marts.start()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = make_server(app, state.config, host="127.0.0.1", port=0, threads=threads, **adjustments)
    thread = threading.Thread(target=server.run, daemon=True)
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]  # stubs lack it
    finally:
        sys.setswitchinterval(switch_interval)
        server.close()
        server.task_dispatcher.shutdown(timeout=30)
        state.close()
