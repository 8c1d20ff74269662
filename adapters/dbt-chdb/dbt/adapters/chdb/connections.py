"""Credentials, client and connection manager: dbt-clickhouse's, opened on a chDB data directory.

The plugin is a distribution of its own: it imports dbt-clickhouse, clickhouse-connect and chdb (all declared
in its pyproject.toml) and nothing of the application that uses it.
"""

from __future__ import annotations

import errno
import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

import clickhouse_connect
from clickhouse_connect.driver.exceptions import ClickHouseError
from dbt.adapters.clickhouse.connections import ClickHouseConnectionManager, retryable_exceptions
from dbt.adapters.clickhouse.credentials import ClickHouseCredentials
from dbt.adapters.clickhouse.httpclient import ChHttpClient
from dbt.adapters.events.logging import AdapterLogger
from dbt.adapters.exceptions import FailedToConnectError

logger = AdapterLogger("chdb")


@dataclass
class ChdbCredentials(ClickHouseCredentials):
    """ClickHouse credentials plus `path`, the embedded engine's data directory."""

    path: str = ".genostream/chdb"

    @property
    def type(self) -> str:
        return "chdb"

    @property
    def unique_field(self) -> str:
        return self.path

    def _connection_keys(self) -> tuple[str, ...]:
        return ("path", "schema", "retries", "custom_settings")


BUSY = (
    "the store at {path} is in use by another process — stop it (a gateway, a load or another dbt run) "
    "first: the embedded engine allows one process at a time"
)


def lock_holders(path: str) -> set[int] | None:
    """PIDs holding a lock on `<path>/status` (the engine flocks it while it runs), as /proc/locks lists them;
    None where the kernel has no /proc/locks."""
    try:
        status = os.stat(Path(path) / "status")
    except FileNotFoundError:
        return set()
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    holders = set()
    for line in lines:
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[4].isdigit():
            major, minor, inode = fields[5].split(":")
            device = os.makedev(int(major, 16), int(minor, 16))
            if (device, int(inode)) == (status.st_dev, status.st_ino):
                holders.add(int(fields[4]))
    return holders


def locked_by_another_process(path: str) -> bool:
    """Whether another process holds the store. Asked after opening failed where /proc/locks is missing:
    a flock probe from this process would also find this process's own engine."""
    try:
        fd = os.open(Path(path) / "status", os.O_RDONLY)
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


class ChdbClient(ChHttpClient):
    """dbt-clickhouse's clickhouse-connect wrapper; clickhouse-connect's chDB client is the same API."""

    def _create_client(self, credentials: ChdbCredentials):  # type: ignore[override]
        path = os.path.realpath(credentials.path)
        holders = lock_holders(path)
        if holders and os.getpid() not in holders:  # say so before the engine prints errors of its own
            raise FailedToConnectError(BUSY.format(path=path))
        Path(path).mkdir(parents=True, exist_ok=True)
        try:
            return clickhouse_connect.get_client(interface="chdb", path=path, settings=self._conn_settings)
        except (ClickHouseError, RuntimeError) as exc:
            if locked_by_another_process(path):
                raise FailedToConnectError(BUSY.format(path=path)) from None
            raise FailedToConnectError(f"cannot open the embedded store at {path}: {exc}") from None


class ChdbConnectionManager(ClickHouseConnectionManager):
    TYPE = "chdb"

    @classmethod
    def open(cls, connection):
        if connection.state == "open":
            return connection
        credentials = cls.get_credentials(connection.credentials)
        return cls.retry_connection(
            connection,
            connect=lambda: ChdbClient(credentials),
            logger=logger,
            retry_limit=credentials.retries,
            retryable_exceptions=retryable_exceptions,
        )
