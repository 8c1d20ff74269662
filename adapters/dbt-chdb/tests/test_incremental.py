"""Incremental models under each of dbt-clickhouse's strategies, predicates, microbatch, schema changes."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.basic.test_incremental import BaseIncremental, BaseIncrementalNotSchemaChange
from dbt.tests.adapter.incremental.test_incremental_microbatch import BaseMicrobatch
from dbt.tests.adapter.incremental.test_incremental_predicates import BaseIncrementalPredicates


class TestIncrementalDefaultStrategy(BaseIncremental):
    pass


class TestIncrementalAppend(BaseIncremental):
    @pytest.fixture(scope="class")
    def project_config_update(self):
        return {"name": "incremental", "models": {"+incremental_strategy": "append"}}


class TestIncrementalDeleteInsert(BaseIncremental):
    @pytest.fixture(scope="class")
    def project_config_update(self):
        config = {"+incremental_strategy": "delete+insert", "+unique_key": "id"}
        return {"name": "incremental", "models": config}


class TestIncrementalLegacy(BaseIncremental):
    @pytest.fixture(scope="class")
    def project_config_update(self):
        return {"name": "incremental", "models": {"+incremental_strategy": "legacy", "+unique_key": "id"}}


class TestIncrementalInsertOverwrite(BaseIncremental):
    """insert_overwrite replaces whole partitions: the seed's first ten ids and the ten added later must fall
    in different ones (ids 1-10 → 0, 11-20 → 1), as with any partitioning by load."""

    @pytest.fixture(scope="class")
    def project_config_update(self):
        config = {"+incremental_strategy": "insert_overwrite", "+partition_by": "intDiv(id, 11)"}
        return {"name": "incremental", "models": config}


# The framework's model builds its key from Postgres-style text functions; the same model in ClickHouse SQL.
NOT_SCHEMA_CHANGE_SQL = """
{{ config(
    materialized="incremental", unique_key="user_id_current_time", on_schema_change="append_new_columns"
) }}
select
    toString(1) || '-' || toString(now64()) as user_id_current_time,
    {% if is_incremental() %}
        'thisis18characters' as platform
    {% else %}
        'okthisis20characters' as platform
    {% endif %}
"""


class TestIncrementalNotSchemaChange(BaseIncrementalNotSchemaChange):
    @pytest.fixture(scope="class")
    def models(self):
        return {"incremental_not_schema_change.sql": NOT_SCHEMA_CHANGE_SQL}


class TestIncrementalPredicates(BaseIncrementalPredicates):
    pass


# ClickHouse spells timestamp literals without the `-0` zone suffix of the framework's models.
MICROBATCH_INPUT_SQL = """
{{ config(materialized='table', event_time='event_time') }}
select 1 as id, toDateTime('2020-01-01 00:00:00', 'UTC') as event_time
union all
select 2 as id, toDateTime('2020-01-02 00:00:00', 'UTC') as event_time
union all
select 3 as id, toDateTime('2020-01-03 00:00:00', 'UTC') as event_time
"""


class TestMicrobatch(BaseMicrobatch):
    @pytest.fixture(scope="class")
    def input_model_sql(self) -> str:
        return MICROBATCH_INPUT_SQL

    @pytest.fixture(scope="class")
    def insert_two_rows_sql(self, project) -> str:
        schema = project.adapter.Relation.create(database=project.database, schema=project.test_schema)
        return (
            f"insert into {schema}.input_model (id, event_time) "
            "values (4, '2020-01-04 00:00:00'), (5, '2020-01-05 00:00:00')"
        )
