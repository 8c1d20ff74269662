"""Model contracts: column names, order and ClickHouse data types are enforced for tables, views and
incremental models."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.constraints import fixtures
from dbt.tests.adapter.constraints.test_constraints import (
    BaseIncrementalConstraintsColumnsEqual,
    BaseTableConstraintsColumnsEqual,
    BaseViewConstraintsColumnsEqual,
)


def in_clickhouse_types(text: str) -> str:
    """The framework's models and contracts with ClickHouse types: `1` is a UInt8 there, so the models say
    `toInt32(1)` to match a contract's Int32 (what dbt-clickhouse maps `integer` to)."""
    return (
        text.replace("1 as id", "toInt32(1) as id")
        .replace("data_type: integer", "data_type: Int32")
        .replace("data_type: text", "data_type: String")
    )


class ClickHouseTypes:
    """The framework's type fixtures in ClickHouse's names (what the engine reports for each value)."""

    @pytest.fixture
    def string_type(self):
        return "String"

    @pytest.fixture
    def int_type(self):
        return "Int32"

    @pytest.fixture
    def data_types(self, int_type, string_type):
        # (SQL value, contract data_type, type the mismatch message names)
        return [
            ["toInt32(1)", int_type, int_type],
            ["'1'", string_type, string_type],
            ["true", "Bool", "Bool"],
            ["toDateTime('2013-11-03 00:00:00', 'UTC')", "DateTime('UTC')", "DateTime('UTC')"],
            ["toDateTime64('2013-11-03 00:00:00', 3)", "DateTime64(3)", "DateTime64(3)"],
            ["['a', 'b', 'c']", "Array(String)", "Array(String)"],
            ["[1, 2, 3]", "Array(UInt8)", "Array(UInt8)"],
            ["toDecimal64(1, 2)", "Decimal(18, 2)", "Decimal(18, 2)"],
            ["map('a', 1)", "Map(String, UInt8)", "Map(String, UInt8)"],
        ]


def clickhouse_models(wrong_order: str, wrong_name: str) -> dict[str, str]:
    return {
        "my_model_wrong_order.sql": in_clickhouse_types(wrong_order),
        "my_model_wrong_name.sql": in_clickhouse_types(wrong_name),
        "constraints_schema.yml": in_clickhouse_types(fixtures.model_schema_yml),
    }


class TestTableContractColumnsEqual(ClickHouseTypes, BaseTableConstraintsColumnsEqual):
    @pytest.fixture(scope="class")
    def models(self):
        return clickhouse_models(fixtures.my_model_wrong_order_sql, fixtures.my_model_wrong_name_sql)


class TestViewContractColumnsEqual(ClickHouseTypes, BaseViewConstraintsColumnsEqual):
    @pytest.fixture(scope="class")
    def models(self):
        return clickhouse_models(
            fixtures.my_model_view_wrong_order_sql, fixtures.my_model_view_wrong_name_sql
        )


class TestIncrementalContractColumnsEqual(ClickHouseTypes, BaseIncrementalConstraintsColumnsEqual):
    @pytest.fixture(scope="class")
    def models(self):
        return clickhouse_models(
            fixtures.my_model_incremental_wrong_order_sql, fixtures.my_model_incremental_wrong_name_sql
        )
