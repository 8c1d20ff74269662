"""The raw tables' cluster form (no cluster runs here): local ReplicatedMergeTree tables per shard created
ON CLUSTER, Distributed tables under the single-node names with explicit sharding keys, drops on the local
tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from genostream.cluster import REPLICATED_ENGINE_ARGS, SHARDING_KEYS
from loader import manifest
from loader.placement import CLUSTER_MACRO_SQL, Placement
from loader.schema import CURRENT_LOADS_DDL, CURRENT_LOADS_VIEW, DATA_TABLES, TABLES

CLUSTER = Placement("genostream")


def test_single_node_ddl_is_unchanged() -> None:
    for ddl in TABLES.values():
        assert Placement().ddl(ddl) == [ddl]
    assert Placement().database_ddl("raw") == "CREATE DATABASE IF NOT EXISTS raw"


@pytest.mark.parametrize("name", list(TABLES))
def test_each_raw_table_becomes_replicated_local_tables_under_a_distributed_table(name: str) -> None:
    local, distributed = CLUSTER.ddl(TABLES[name])
    assert local.lstrip().startswith(f"CREATE TABLE IF NOT EXISTS raw.{name}_local ON CLUSTER `genostream` (")
    engine = re.search(r"ENGINE = (\w+)\((.*)\)", local)
    assert engine and engine[1].startswith("Replicated") and engine[1].endswith("MergeTree")
    assert engine[2].startswith(REPLICATED_ENGINE_ARGS) and "{uuid}" in engine[2]
    # everything else (columns, partitioning, order) is the single-node table's
    single = TABLES[name]
    for clause in ("PARTITION BY", "ORDER BY"):
        assert (clause in single) == (clause in local)
    assert single.split("ENGINE")[0].split("(", 1)[1] == local.split("ENGINE")[0].split("(", 1)[1]
    assert distributed == (
        f"CREATE TABLE IF NOT EXISTS raw.{name} ON CLUSTER `genostream` AS raw.{name}_local "
        f"ENGINE = Distributed('genostream', 'raw', '{name}_local', {SHARDING_KEYS['raw.' + name]})"
    )


def test_the_manifest_keeps_its_version_column_on_the_cluster() -> None:
    local, _ = CLUSTER.ddl(TABLES["loads"])
    assert f"ReplicatedReplacingMergeTree({REPLICATED_ENGINE_ARGS}, updated_at)" in local


def test_per_cell_raw_tables_hash_the_cell_and_per_dataset_tables_the_dataset() -> None:
    assert set(SHARDING_KEYS) == {f"raw.{name}" for name in TABLES}
    assert (
        SHARDING_KEYS["raw.matrix"] == SHARDING_KEYS["raw.barcodes"] == "cityHash64(dataset, cell_index - 1)"
    )
    for name in ("loads", "genes", "metadata"):
        assert SHARDING_KEYS[f"raw.{name}"] == "cityHash64(dataset)"


def test_views_are_created_on_every_node() -> None:
    view = "CREATE VIEW IF NOT EXISTS raw.current AS SELECT 1"
    assert CLUSTER.ddl(view) == ["CREATE VIEW IF NOT EXISTS raw.current ON CLUSTER `genostream` AS SELECT 1"]


def test_a_table_without_a_sharding_key_is_refused() -> None:
    ddl = "CREATE TABLE IF NOT EXISTS raw.other (x UInt8) ENGINE = MergeTree ORDER BY x"
    with pytest.raises(ValueError, match=r"raw\.other has no sharding key"):
        CLUSTER.ddl(ddl)


@dataclass
class RecordingClient:
    """Answers the cluster-macro query; records commands."""

    cluster: str | None
    commands: list[str] = field(default_factory=list)

    def query(self, sql: str) -> Any:
        assert sql == CLUSTER_MACRO_SQL
        rows = [(self.cluster,)] if self.cluster else []
        return type("Result", (), {"result_rows": rows})()

    def command(self, sql: str) -> None:
        self.commands.append(sql)


@pytest.mark.parametrize(
    ("cluster", "table_form"),
    [(None, "raw.{t} DROP"), ("genostream", "raw.{t}_local ON CLUSTER `genostream` DROP")],
)
def test_partition_drops_act_on_the_tables_holding_the_parts(cluster: str | None, table_form: str) -> None:
    client = RecordingClient(cluster)
    manifest.drop_partitions(client, "pbmc", "L1")
    assert client.commands == [
        f"ALTER TABLE {table_form.format(t=t)} PARTITION tuple('pbmc', 'L1')" for t in DATA_TABLES
    ]


def test_added_columns_reach_the_local_and_the_distributed_tables() -> None:
    column = "owner String DEFAULT '' AFTER message"
    assert Placement().add_column("raw.loads", column) == [
        f"ALTER TABLE raw.loads ADD COLUMN IF NOT EXISTS {column}"
    ]
    assert CLUSTER.add_column("raw.loads", column) == [
        f"ALTER TABLE raw.loads_local ON CLUSTER `genostream` ADD COLUMN IF NOT EXISTS {column}",
        f"ALTER TABLE raw.loads ON CLUSTER `genostream` ADD COLUMN IF NOT EXISTS {column}",
    ]


def test_the_current_loads_view_is_created_on_every_node() -> None:
    (statement,) = CLUSTER.ddl(CURRENT_LOADS_DDL)
    assert statement.lstrip().startswith(
        f"CREATE OR REPLACE VIEW {CURRENT_LOADS_VIEW} ON CLUSTER `genostream` AS"
    )
