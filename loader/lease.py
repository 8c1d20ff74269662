"""Which in-flight loads are alive: a per-load lease in the manifest, renewed by a heartbeat while it runs.

Several loaders can write one ClickHouse server at once, so a load's partitions may only be collected once
its loader is known to be gone. Each `loading` row names its owner (a process) and carries `lease_until`, a
time on the ENGINE's clock (loader hosts' clocks need not agree), pushed forward by a heartbeat while the load
runs.
A `loading` row is alive when
- it belongs to this process: exactly while the load still runs here (threads with clients of their own);
- else on the embedded store: never — this process holds chDB's directory lock, so no other process can be
  loading and the row is a crashed load's leftover;
- else on a server: while its lease has not expired.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
"""How long a load stays alive without a heartbeat: a crashed load on a server is collected after this."""

OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
"""This process, as written in the `owner` column of the loads it runs."""

_running: set[str] = set()
_running_lock = threading.Lock()


class Leased(Protocol):
    load_id: str
    owner: str
    lease_until: datetime


def as_utc(value: datetime) -> datetime:
    """The engine returns `DateTime64(3, 'UTC')` values without a zone: they are UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def engine_now(client) -> datetime:
    """Now on the engine's clock, the one every loader compares leases against."""
    return as_utc(client.query("SELECT now64(3, 'UTC')").result_rows[0][0])


def is_alive(record: Leased, now: datetime, *, embedded: bool) -> bool:
    """Whether a `loading` row belongs to a load that still runs (the rule in the module docstring)."""
    if record.owner == OWNER:
        with _running_lock:
            return record.load_id in _running
    if embedded:
        return False
    return as_utc(record.lease_until) > now


def mark_running(load_id: str, running: bool) -> None:
    """Record that this process runs (or no longer runs) the load `load_id`."""
    with _running_lock:
        if running:
            _running.add(load_id)
        else:
            _running.discard(load_id)


class Heartbeat(threading.Thread):
    """Calls `renew()` every LEASE/4 until stopped or until `renew()` answers False."""

    def __init__(self, name: str, renew: Callable[[], bool]) -> None:
        super().__init__(name=name, daemon=True)
        self.renew = renew
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(LEASE.total_seconds() / 4):
            try:
                if not self.renew():
                    return
            except Exception:  # a missed beat only shortens the lease; the publish check has the last word
                log.warning("could not renew the lease (%s)", self.name, exc_info=True)

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join()
