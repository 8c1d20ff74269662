"""A subset of the expression matrix in long form (barcode, cell type, sample, gene, value), as Arrow batches.

The stored non-zeros of the chosen genes in the chosen cells, or (dense) every chosen cell × gene with
the zeros filled in by the engine. The route negotiates the format and streams; this module owns the SQL
and the schema of what it yields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa

from gateway.analyses.cells import CellSelection

SCHEMA = pa.schema(
    [
        ("barcode", pa.string()),
        ("cell_type", pa.string()),
        ("sample", pa.string()),
        ("gene", pa.string()),
        ("value", pa.float64()),
    ]
)
LAYERS = {"value": "value", "lognorm": "lognorm"}  # request literal → column


def _sparse_sql(layer: str, cells: str, rows: str) -> str:
    # marts.expression names its cells by index; the barcodes are marts.cells'.
    return f"""
WITH
stored AS (
    SELECT cell, cell_type, sample, gene, {LAYERS[layer]} AS value FROM marts.expression
    WHERE dataset = {{dataset:String}} AND gene IN {{genes:Array(String)}} AND {rows}
),
chosen AS (
    SELECT cell, barcode FROM marts.cells WHERE dataset = {{dataset:String}} AND {cells}
)
SELECT chosen.barcode AS barcode, stored.cell_type AS cell_type, stored.sample AS sample, stored.gene AS gene,
       stored.value AS value
FROM stored INNER JOIN chosen ON stored.cell = chosen.cell
ORDER BY stored.gene, stored.cell
"""


def _dense_sql(layer: str, cells: str, rows: str) -> str:
    return f"""
WITH
chosen AS (
    SELECT cell, barcode, cell_type, sample FROM marts.cells
    WHERE dataset = {{dataset:String}} AND {cells}
),
stored AS (
    SELECT gene, cell, {LAYERS[layer]} AS value FROM marts.expression
    WHERE dataset = {{dataset:String}} AND gene IN {{genes:Array(String)}} AND {rows}
),
grid AS (
    SELECT chosen.cell AS cell, barcode, cell_type, sample, gene
    FROM chosen CROSS JOIN (SELECT arrayJoin({{genes:Array(String)}}) AS gene) AS genes
)
SELECT grid.barcode AS barcode, grid.cell_type AS cell_type, grid.sample AS sample, grid.gene AS gene,
       coalesce(stored.value, 0) AS value
FROM grid LEFT JOIN stored ON grid.gene = stored.gene AND grid.cell = stored.cell
ORDER BY gene, grid.cell
"""


def matrix_query(
    dataset: str, genes: list[str], selection: CellSelection, *, layer: str, dense: bool
) -> tuple[str, dict[str, Any]]:
    """The SQL and its bound parameters for resolved `genes` and cells of `dataset`."""
    cells, params = selection.predicate("sel")
    rows, _ = selection.row_filter("sel")
    sql = (_dense_sql if dense else _sparse_sql)(layer, cells, rows)
    return sql, {"dataset": dataset, "genes": genes, **params}


def matrix_batches(blocks: Iterable[Any]) -> Iterator[pa.RecordBatch]:
    """The engine's column blocks (in `SCHEMA`'s column order) as Arrow record batches."""
    for block in blocks:
        arrays = [pa.array(column, type=f.type) for column, f in zip(block, SCHEMA, strict=True)]
        yield pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def anndata_queries(
    dataset: str, genes: list[str], selection: CellSelection, *, layer: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """The SQL of an AnnData answer — `obs` (the chosen cells), `var` (the genes), `load` (the dataset's
    load), `x` (the non-zeros by cell) — and their bound parameters."""
    chosen, params = selection.predicate("sel")
    rows, _ = selection.row_filter("sel")
    sql = {
        "obs": "SELECT cell, barcode, cell_type, sample, group_attributes, numeric_attributes "
        f"FROM marts.cells WHERE dataset = {{dataset:String}} AND {chosen} ORDER BY cell",
        "var": "SELECT gene, gene_id FROM marts.genes "
        "WHERE dataset = {dataset:String} AND gene IN {genes:Array(String)}",
        "load": "SELECT load_id FROM marts.datasets WHERE dataset = {dataset:String}",
        "x": f"SELECT cell, gene, {LAYERS[layer]} AS value FROM marts.expression "
        f"WHERE dataset = {{dataset:String}} AND gene IN {{genes:Array(String)}} AND {rows} ORDER BY cell",
    }
    return sql, {"dataset": dataset, "genes": genes, **params}
