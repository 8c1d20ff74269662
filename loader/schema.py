"""DDL of the `raw` database: what the loader lands and dbt's sources read.

Every data table is partitioned by (dataset, load_id). A load writes a new load_id's partitions, validates
them, and only then publishes itself by inserting one `loaded` row into `raw.loads` — a single-row insert,
so the switch from the previous version is atomic. Readers (dbt staging) take each dataset's newest
`loaded` load; partitions of superseded, failed or interrupted loads are dropped afterwards or on the next
run. Indices are 1-based, exactly as in the source files: the loader does not transform.
"""

from __future__ import annotations

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
}

DATA_TABLES = ("matrix", "genes", "barcodes", "metadata")


def ensure_raw_schema(client) -> None:
    """Create the raw database and tables if they are missing (idempotent)."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {RAW_DATABASE}")
    for ddl in TABLES.values():
        client.command(ddl)
