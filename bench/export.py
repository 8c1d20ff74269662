"""Read what the peers need out of the store, in one process that holds the embedded engine briefly:
the dataset's load manifest (value kind, cell-type column) and the tidy marts as Parquet for DuckDB.

Run as `python -m bench.export CONTEXT RESULT` (the peer protocol); the same SQL works against a server.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench.measure import stopwatch
from bench.peers.protocol import PeerContext, peer_main
from genostream.engine import get_client

MANIFEST_SQL = """
    SELECT value_kind, cell_type_column, n_genes, n_cells, nnz
    FROM raw.current_loads
    WHERE dataset = {dataset:String}
"""
# One block of genes at a time (bounded memory at 170M rows), in the table's own sort order.
EXPRESSION_SQL = """
    SELECT gene, cell, cell_type, lognorm
    FROM marts.expression
    WHERE dataset = {dataset:String} AND gene IN {genes:Array(String)}
    ORDER BY gene, cell_type, cell
"""
GENES_SQL = """
    SELECT gene, n_cells_expressing FROM marts.genes WHERE dataset = {dataset:String} ORDER BY gene
"""
BLOCK_ROWS = 10_000_000
CELLS_SQL = "SELECT cell, cell_type FROM marts.cells WHERE dataset = {dataset:String} ORDER BY cell"


def gene_blocks(client, dataset: str) -> list[list[str]]:
    """The dataset's genes in sort order, cut into blocks of about BLOCK_ROWS stored values each."""
    blocks: list[list[str]] = [[]]
    rows = 0
    for gene, expressing in client.query(GENES_SQL, parameters={"dataset": dataset}).result_rows:
        if rows + expressing > BLOCK_ROWS and blocks[-1]:
            blocks.append([])
            rows = 0
        blocks[-1].append(gene)
        rows += expressing
    return blocks


def write_parquet(client, queries: list[tuple[str, dict[str, Any]]], path: Path) -> int:
    """Stream the queries' Arrow batches, in order, into one Parquet file; the number of rows written."""
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for sql, parameters in queries:
            with client.query_arrow_stream(sql, parameters=parameters, use_strings=True) as stream:
                for batch in stream:
                    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
                    if writer is None:
                        writer = pq.ParquetWriter(path, table.schema, compression="zstd")
                    writer.write_table(table.cast(writer.schema))
                    rows += table.num_rows
    finally:
        if writer is not None:
            writer.close()
    return rows


def run(context: PeerContext) -> dict[str, Any]:
    client = get_client()
    parameters = {"dataset": context.dataset}
    try:
        found = client.query(MANIFEST_SQL, parameters=parameters).named_results()
        manifest = next(iter(found), None)
        if manifest is None:
            raise LookupError(f"dataset {context.dataset!r} has no loaded version in the store")
        result: dict[str, Any] = {"manifest": dict(manifest)}
        if context.expression_parquet is not None and context.cells_parquet is not None:
            with stopwatch() as watch:
                blocks = [
                    (EXPRESSION_SQL, {**parameters, "genes": genes})
                    for genes in gene_blocks(client, context.dataset)
                ]
                result["expression_rows"] = write_parquet(client, blocks, context.expression_parquet)
                result["cells_rows"] = write_parquet(client, [(CELLS_SQL, parameters)], context.cells_parquet)
            result["export_s"] = round(watch.seconds, 3)
    finally:
        client.close()
    return result


if __name__ == "__main__":
    sys.exit(peer_main(run))
