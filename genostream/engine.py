"""The one place that opens a clickhouse-connect client, for chDB (embedded) or a ClickHouse server.

Everything above this module (loader, dbt plugin, gateway, benchmark) speaks the same client API and the
same SQL, so switching between the embedded store and a server is configuration only.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from genostream.cluster import session_settings
from genostream.config import EngineSettings
from genostream.errors import EngineError, StoreLockedError, StoreUnavailableError

log = logging.getLogger(__name__)

# Paths this process has opened an engine on; chDB's own lock then belongs to us, and probing it again
# from this process would wrongly look like another process holds it.
_opened_here: set[str] = set()
# Stores whose running engine was checked against the server settings a caller wanted (once per process).
_server_settings_checked: set[str] = set()
# Clients opened here on the embedded engine: this process holds their store's directory lock.
_embedded_clients: weakref.WeakSet[Client] = weakref.WeakSet()


def store_locked_by_other_process(path: str | os.PathLike[str]) -> bool:
    """True when another process holds the chDB directory's lock (the engine flocks `<path>/status`)."""
    status = Path(path) / "status"
    if not status.exists():
        return False
    try:
        fd = os.open(status, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def open_chdb(
    path: str | os.PathLike[str],
    *,
    settings: dict[str, Any] | None = None,
    server_settings: dict[str, int | str] | None = None,
) -> Client:
    """A client on the embedded engine at `path`; several clients in one process share one engine.

    `server_settings` are the engine's own (process-wide) settings, such as `max_server_memory_usage`: chDB
    takes them from the connection string of the connection that starts the engine, and ignores them on
    later ones — so a caller that needs them opens the engine first; a mismatch is logged."""
    resolved = os.path.realpath(path)
    if resolved not in _opened_here and store_locked_by_other_process(resolved):
        raise StoreLockedError(resolved)
    Path(resolved).mkdir(parents=True, exist_ok=True)
    try:
        client = clickhouse_connect.get_client(
            interface="chdb", path=resolved, settings=settings or {}, chdb_options=server_settings or None
        )
    except (ClickHouseError, RuntimeError) as exc:
        if store_locked_by_other_process(resolved):
            raise StoreLockedError(resolved) from None
        raise StoreUnavailableError(f"cannot open the embedded store at {resolved}: {exc}") from None
    _opened_here.add(resolved)
    _embedded_clients.add(client)
    if server_settings and resolved not in _server_settings_checked:
        _server_settings_checked.add(resolved)
        _check_server_settings(client, server_settings)
    return client


def _check_server_settings(client: Client, wanted: dict[str, int | str]) -> None:
    """Log the server settings the running engine does not have (it was started without them).

    Once per store: the check runs under the new client's own settings, and a client opened with a
    millisecond `max_execution_time` (an export's) must still open; a failed check is only logged."""
    try:
        rows = client.query(
            "SELECT name, value FROM system.server_settings WHERE name IN {names:Array(String)}",
            parameters={"names": list(wanted)},
        ).result_rows
    except ClickHouseError as exc:
        log.warning("could not read the embedded engine's server settings: %s", exc)
        return
    running = {str(name): str(value) for name, value in rows}
    for name, value in wanted.items():
        if running.get(name) != str(value):
            log.warning(
                "the embedded engine runs with %s = %s, not %s: it was started earlier in this process "
                "without it",
                name,
                running.get(name, "(unknown)"),
                value,
            )


def is_embedded(client: Client) -> bool:
    """True for a client from `open_chdb`: its process holds the store alone (no other process can write)."""
    return client in _embedded_clients


def open_server(engine: EngineSettings, *, settings: dict[str, Any] | None = None) -> Client:
    """A client on a ClickHouse server (or one of a cluster's servers) over HTTP(S)."""
    try:
        return clickhouse_connect.get_client(
            host=engine.host,
            port=engine.port,
            username=engine.user,
            password=engine.password,
            interface="https" if engine.secure else "http",
            settings=settings or {},
            autogenerate_session_id=False,
        )
    except ClickHouseError as exc:
        raise StoreUnavailableError(f"cannot reach ClickHouse at {engine.location}: {exc}") from None


def get_client(
    engine: EngineSettings | None = None,
    *,
    settings: dict[str, Any] | None = None,
    server_settings: dict[str, int | str] | None = None,
) -> Client:
    """A client for the configured target (environment by default). On a cluster its session starts with the
    cluster settings, before the caller's (which may end with readonly: nothing after it can change).
    `server_settings` apply to the embedded engine only (see `open_chdb`); a ClickHouse server keeps its
    own configuration and is never sent them."""
    engine = engine or EngineSettings.from_env()
    settings = {**session_settings(engine), **(settings or {})}
    if engine.embedded:
        return open_chdb(engine.chdb_path, settings=settings, server_settings=server_settings)
    return open_server(engine, settings=settings)


@contextmanager
def engine_errors() -> Iterator[None]:
    """Re-raise the driver's exceptions from the block as EngineError (ClickHouse's code and name kept)."""
    try:
        yield
    except ClickHouseError as exc:
        raise EngineError.from_clickhouse(exc) from exc
