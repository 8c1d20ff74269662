"""DDL of the `raw` database: what the loader lands and dbt's sources read.

Every data table is partitioned by (dataset, load_id). A load writes a new load_id's partitions, validates
them, and only then publishes itself by inserting one `loaded` row into `raw.loads` — a single-row insert,
so the switch from the previous version is atomic. Which load of a dataset is current is defined once, by the
view `raw.current_loads`: the loader (list, drop, garbage collection) and dbt staging (a source) both read it.
Partitions of superseded, failed or crashed loads are dropped afterwards or on a later run (in-flight loads
are kept while their lease lives: loader/lease.py). Indices are 1-based, exactly as in the source files: the
loader does not transform.
"""

from __future__ import annotations

from loader.placement import placement_of

RAW_DATABASE = "raw"

LOAD_STATUSES = ("loading", "loaded", "failed", "replaced", "dropped")

TABLES: dict[str, str] = {
    "loads": """
        CREATE TABLE IF NOT EXISTS raw.loads (
            load_id String,
            dataset String,
            status LowCardinality(String),
            layout LowCardinality(String),
            value_kind LowCardinality(String),
            n_genes UInt32,
            n_cells UInt32,
            n_metadata_cells UInt32,
            nnz UInt64,
            cell_type_column String,
            sample_column String,
            source_files String,
            loader_version String,
            started_at DateTime64(3, 'UTC'),
            finished_at Nullable(DateTime64(3, 'UTC')),
            message String,
            owner String DEFAULT '',
            lease_until DateTime64(3, 'UTC') DEFAULT 0,
            updated_at DateTime64(6, 'UTC')
        )
        ENGINE = ReplacingMergeTree(updated_at)
        ORDER BY (dataset, load_id)
    """,
    "matrix": """
        CREATE TABLE IF NOT EXISTS raw.matrix (
            dataset LowCardinality(String),
            load_id LowCardinality(String),
            gene_index UInt32,
            cell_index UInt32,
            value Float64
        )
        ENGINE = MergeTree
        PARTITION BY (dataset, load_id)
        ORDER BY (dataset, load_id, gene_index, cell_index)
    """,
    "genes": """
        CREATE TABLE IF NOT EXISTS raw.genes (
            dataset LowCardinality(String),
            load_id LowCardinality(String),
            gene_index UInt32,
            gene_id String,
            gene String,
            symbol String,
            feature_type LowCardinality(String)
        )
        ENGINE = MergeTree
        PARTITION BY (dataset, load_id)
        ORDER BY (dataset, load_id, gene_index)
    """,
    "barcodes": """
        CREATE TABLE IF NOT EXISTS raw.barcodes (
            dataset LowCardinality(String),
            load_id LowCardinality(String),
            cell_index UInt32,
            barcode String
        )
        ENGINE = MergeTree
        PARTITION BY (dataset, load_id)
        ORDER BY (dataset, load_id, cell_index)
    """,
    "metadata": """
        CREATE TABLE IF NOT EXISTS raw.metadata (
            dataset LowCardinality(String),
            load_id LowCardinality(String),
            barcode String,
            cell_type String,
            sample String,
            group_attributes Map(String, String),
            numeric_attributes Map(String, Float64)
        )
        ENGINE = MergeTree
        PARTITION BY (dataset, load_id)
        ORDER BY (dataset, load_id, barcode)
    """,
    # 2-D coordinates of cells (UMAP, t-SNE, …) the study ships: obsm keys, cluster files, Cell Ranger
    # projections (loader/embeddings.py); cells by barcode, as in raw.metadata.
    "embeddings": """
        CREATE TABLE IF NOT EXISTS raw.embeddings (
            dataset LowCardinality(String),
            load_id LowCardinality(String),
            embedding LowCardinality(String),
            barcode String,
            x Float64,
            y Float64
        )
        ENGINE = MergeTree
        PARTITION BY (dataset, load_id)
        ORDER BY (dataset, load_id, embedding, barcode)
    """,
}

DATA_TABLES = ("matrix", "genes", "barcodes", "metadata", "embeddings")

# Columns added since the first release: stores created before get them on the loader's next run.
ADDED_COLUMNS = {
    "loads": (
        "owner String DEFAULT '' AFTER message",
        "lease_until DateTime64(3, 'UTC') DEFAULT 0 AFTER owner",
    ),
}

CURRENT_LOADS_VIEW = "raw.current_loads"
# THE definition of a dataset's current load: its newest published (`loaded`) load, by when it was published
# (ties: the greatest load_id; load_ids sort by start time). One row per dataset.
CURRENT_LOADS_DDL = f"""
    CREATE OR REPLACE VIEW {CURRENT_LOADS_VIEW} AS
    SELECT
        dataset,
        load_id,
        status,
        layout,
        value_kind,
        n_genes,
        n_cells,
        n_metadata_cells,
        nnz,
        cell_type_column,
        sample_column,
        source_files,
        loader_version,
        started_at,
        coalesce(finished_at, started_at) AS loaded_at
    FROM raw.loads FINAL
    WHERE status = 'loaded'
    ORDER BY dataset ASC, loaded_at DESC, load_id DESC
    LIMIT 1 BY dataset
"""


def ensure_raw_schema(client) -> None:
    """Create the raw database, tables and current-loads view if missing; add newer columns (idempotent). On
    a cluster all of it ON CLUSTER, the tables as local tables per shard under Distributed ones
    (loader.placement).

    Parameters
    ----------
    client
        A client on the store.

    Raises
    ------
    clickhouse_connect.driver.exceptions.DatabaseError
        The engine refused a statement.
    """
    placement = placement_of(client)
    client.command(placement.database_ddl(RAW_DATABASE))
    for ddl in TABLES.values():
        for statement in placement.ddl(ddl):
            client.command(statement)
    for table, columns in ADDED_COLUMNS.items():
        for column in columns:
            for statement in placement.add_column(f"{RAW_DATABASE}.{table}", column):
                client.command(statement)
    for statement in placement.ddl(CURRENT_LOADS_DDL):
        client.command(statement)
