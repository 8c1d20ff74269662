"""Credentials, client and connection manager: dbt-clickhouse's, opened on a chDB data directory."""

from __future__ import annotations

from dataclasses import dataclass

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


class ChdbClient(ChHttpClient):
    """dbt-clickhouse's clickhouse-connect wrapper; clickhouse-connect's chDB client is the same API."""

    def _create_client(self, credentials: ChdbCredentials):  # type: ignore[override]
        # The shared engine module turns "another process holds the store" into one clear sentence.
        from genostream.engine import open_chdb
        from genostream.errors import GenostreamError

        try:
            return open_chdb(credentials.path, settings=self._conn_settings)
        except GenostreamError as exc:
            raise FailedToConnectError(str(exc)) from None


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
