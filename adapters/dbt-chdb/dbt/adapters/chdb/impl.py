"""The adapter: dbt-clickhouse's, with the chDB connection manager."""

from __future__ import annotations

from dbt.adapters.chdb.connections import ChdbConnectionManager
from dbt.adapters.clickhouse.impl import ClickHouseAdapter


class ChdbAdapter(ClickHouseAdapter):
    ConnectionManager = ChdbConnectionManager
