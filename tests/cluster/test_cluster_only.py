"""What only a cluster can show: tables are Distributed over replicated local tables with the designed keys,
rows are spread over the shards with each cell on one shard, a reload or drop leaves nothing behind on any
shard, and analysts get the cluster settings under readonly. Opt-in: see conftest.py."""

from __future__ import annotations

import os

import numpy as np

from genostream.cluster import READ_SETTINGS, SHARDING_KEYS
from tests.helpers.cluster import CLUSTER_NAME, MART_SHARDING
from tests.helpers.dbt import run_dbt
from tests.helpers.paths import TENX_DIR

PROBE = "cluster_probe"


def _scalar(client, sql: str):
    return client.query(sql).result_rows[0][0]


def _shards(client) -> int:
    return _scalar(client, f"SELECT count() FROM system.clusters WHERE cluster = '{CLUSTER_NAME}'")


def test_marts_and_raw_tables_are_distributed_with_the_designed_keys(built_store, engine_client) -> None:
    tables = {**{f"marts.{name}": key for name, key in MART_SHARDING.items()}, **SHARDING_KEYS}
    for table, key in tables.items():
        database, name = table.split(".")
        engine, full = engine_client.query(
            "SELECT engine, engine_full FROM system.tables"
            " WHERE database = {db:String} AND name = {name:String}",
            parameters={"db": database, "name": name},
        ).result_rows[0]
        assert engine == "Distributed", table
        assert key.replace(" ", "") in full.replace(" ", ""), (table, full)
        local = _scalar(
            engine_client,
            f"SELECT groupUniqArray(engine) FROM clusterAllReplicas('{CLUSTER_NAME}', system.tables) "
            f"WHERE database = '{database}' AND name = '{name}_local'",
        )
        assert len(local) == 1 and local[0].startswith("Replicated"), (table, local)


def test_rows_spread_over_every_shard_and_each_cell_stays_on_one(built_store, engine_client) -> None:
    assert _scalar(engine_client, "SELECT uniqExact(_shard_num) FROM marts.expression") == _shards(
        engine_client
    )
    for table, cell in (
        ("marts.expression", "cell"),
        ("marts.cells", "cell"),
        ("raw.matrix", "cell_index - 1"),
    ):
        split = _scalar(
            engine_client,
            f"SELECT count() FROM (SELECT dataset, {cell} AS c FROM {table} "
            "GROUP BY dataset, c HAVING uniqExact(_shard_num) > 1)",
        )
        assert split == 0, table
    # a raw row and its mart row are on the same shard
    moved = _scalar(
        engine_client,
        "SELECT count() FROM (SELECT dataset, cell_index - 1 AS cell, any(_shard_num) AS shard"
        " FROM raw.matrix WHERE load_id IN (SELECT load_id FROM marts.datasets) GROUP BY dataset, cell) AS r"
        " INNER JOIN (SELECT dataset, cell, any(_shard_num) AS shard FROM marts.expression"
        " GROUP BY dataset, cell) AS m ON r.dataset = m.dataset AND r.cell = m.cell WHERE r.shard != m.shard",
    )
    assert moved == 0


def _stored_loads(client, dataset: str) -> set[str]:
    rows = client.query(
        f"SELECT DISTINCT load_id FROM clusterAllReplicas('{CLUSTER_NAME}', raw.matrix_local) "
        "WHERE dataset = {dataset:String}",
        parameters={"dataset": dataset},
    ).result_rows
    return {str(row[0]) for row in rows}


def test_reload_and_drop_leave_nothing_behind_on_any_shard(
    built_store, engine_client, counts_study_dir
) -> None:
    from loader import drop_dataset, load_dataset

    first = load_dataset(engine_client, counts_study_dir, dataset=PROBE)
    second = load_dataset(engine_client, TENX_DIR, dataset=PROBE)
    assert _stored_loads(engine_client, PROBE) == {second.load_id} != {first.load_id}
    run_dbt("run", "--target", "cluster")
    built = engine_client.query(
        "SELECT count(), uniqExact(load_id) FROM marts.expression WHERE dataset = {d:String}",
        parameters={"d": PROBE},
    ).result_rows[0]
    assert built == (second.nnz, 1)

    drop_dataset(engine_client, PROBE)
    run_dbt("run", "--target", "cluster")
    assert _stored_loads(engine_client, PROBE) == set()
    for table in ("expression", "gene_stats", "cells", "pseudobulk"):
        left = _scalar(
            engine_client,
            f"SELECT count() FROM clusterAllReplicas('{CLUSTER_NAME}', marts.{table}_local) "
            f"WHERE dataset = '{PROBE}'",
        )
        assert left == 0, table


def test_analysts_get_the_cluster_settings_under_readonly(built_store, cluster_engine, engine_client) -> None:
    from dataclasses import replace

    from genostream.engine import open_server

    analyst = open_server(
        replace(cluster_engine, user="analyst", password=os.environ.get("ANALYST_PASSWORD", "analyst"))
    )
    try:
        for name, value in READ_SETTINGS.items():
            got = _scalar(analyst, f"SELECT getSetting('{name}')")
            assert (int(got) if isinstance(got, bool) else got) == value, name
        assert str(_scalar(analyst, "SELECT getSetting('readonly')")) == "1"
        # a join of two distributed subqueries (co-expression's shape) answers as for the pipeline's user
        join = (
            "SELECT e.gene, count(), sum(e.lognorm * t.lognorm) FROM marts.expression AS e "
            "INNER JOIN (SELECT cell, lognorm FROM marts.expression"
            " WHERE dataset = 'pbmc' AND gene = 'CD74') AS t ON e.cell = t.cell"
            " WHERE e.dataset = 'pbmc' GROUP BY e.gene ORDER BY e.gene"
        )
        theirs, ours = analyst.query(join).result_rows, engine_client.query(join).result_rows
        assert [row[:2] for row in theirs] == [row[:2] for row in ours]
        assert np.allclose([row[2] for row in theirs], [row[2] for row in ours], rtol=1e-12, atol=0)
    finally:
        analyst.close()
