"""What running on a ClickHouse cluster changes: session settings, and where rows of each table live.

The same SQL runs embedded, on one server and on a cluster; on a cluster every client session carries
QUERY_SETTINGS (the analysts' server profile carries the same values, deploy/cluster/users.d/), and each table
is a Distributed table over `<name>_local` tables, one per shard, placed by its sharding key.
"""

from __future__ import annotations

from typing import Any

from genostream.config import EngineSettings

LOCAL_SUFFIX = "_local"

# Keeper path of every replicated table: {uuid} makes it unique per table, so a rename (dbt's swap of a
# rebuilt table for the old one) never collides with the path of the table it replaces (dbt-clickhouse
# #627, #388).
REPLICATED_ENGINE_ARGS = "'/clickhouse/tables/{uuid}/{shard}', '{replica}'"

READ_SETTINGS: dict[str, Any] = {
    # A JOIN or IN whose both sides read distributed tables (co-expression's gene × all genes join, staging's
    # current-load filter, the marts' joins) runs its right side once on the initiator and sends the result
    # to every shard: exact whatever the sharding keys ('deny', the default, refuses such queries).
    "distributed_product_mode": "global",
    # A filter on the whole sharding key (WHERE dataset = … AND gene = … on a gene-level mart) reads one
    # shard only.
    "optimize_skip_unused_shards": 1,
    # A missing shard is an error, never a silently partial (inexact) answer.
    "skip_unavailable_shards": 0,
}
WRITE_SETTINGS: dict[str, Any] = {
    # INSERTs into Distributed tables return once every shard has its rows: a load is complete on all shards
    # before its manifest row publishes it (the atomic-publish rule), and dbt's distributed materializations
    # require it (they check its older name, insert_distributed_sync).
    "distributed_foreground_insert": 1,
}
# Every client session on a cluster; analysts (readonly) get READ_SETTINGS from their server profile instead.
QUERY_SETTINGS: dict[str, Any] = {**READ_SETTINGS, **WRITE_SETTINGS}

# Sharding keys of the raw tables (the marts' are in dbt_project.yml). The matrix is spread by cell: evenly,
# even for one large dataset, and a cell's rows stay together, so per-cell work (library sizes, the expression
# build's cell lookup) is whole on each shard. Raw indices are 1-based: the key hashes the 0-based cell, so
# raw rows sit on the shard of their marts.expression rows. Small per-dataset tables go by dataset.
SHARDING_KEYS: dict[str, str] = {
    "raw.loads": "cityHash64(dataset)",
    "raw.matrix": "cityHash64(dataset, cell_index - 1)",
    "raw.barcodes": "cityHash64(dataset, cell_index - 1)",
    "raw.genes": "cityHash64(dataset)",
    "raw.metadata": "cityHash64(dataset)",
    "raw.embeddings": "cityHash64(dataset)",
}


def session_settings(engine: EngineSettings) -> dict[str, Any]:
    """The settings every client session on `engine` starts with (none outside cluster mode)."""
    return dict(QUERY_SETTINGS) if engine.clustered else {}
