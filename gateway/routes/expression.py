"""POST /expression-matrix: a subset of the matrix in long form, streamed in the format Accept asks for."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pyarrow as pa
from flask import Blueprint, request

from gateway.api import endpoint
from gateway.correlation import cell_filter
from gateway.errors import PayloadTooLarge
from gateway.formats import MEDIA_TYPES, negotiate, write_batches
from gateway.models import ExpressionMatrixRequest
from gateway.state import get_gateway
from gateway.streaming import export

bp = Blueprint("expression", __name__)

SCHEMA = pa.schema(
    [
        ("barcode", pa.string()),
        ("cell_type", pa.string()),
        ("sample", pa.string()),
        ("gene", pa.string()),
        ("value", pa.float64()),
    ]
)
FORMATS = ("json", "csv", "arrow", "parquet")
LAYERS = {"value": "value", "lognorm": "lognorm"}  # request literal → column


def _sparse_sql(layer: str, cell_types: list[str]) -> str:
    return f"""
SELECT barcode, cell_type, sample, gene, {LAYERS[layer]} AS value
FROM marts.expression
WHERE dataset = {{dataset:String}} AND gene IN {{genes:Array(String)}} AND {cell_filter(cell_types)}
ORDER BY gene, cell
"""


def _dense_sql(layer: str, cell_types: list[str]) -> str:
    return f"""
WITH
chosen AS (
    SELECT cell, barcode, cell_type, sample FROM marts.cells
    WHERE dataset = {{dataset:String}} AND {cell_filter(cell_types)}
),
stored AS (
    SELECT gene, cell, {LAYERS[layer]} AS value FROM marts.expression
    WHERE dataset = {{dataset:String}} AND gene IN {{genes:Array(String)}} AND {cell_filter(cell_types)}
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


def _batches(blocks: Iterable[Any]) -> Iterator[pa.RecordBatch]:
    for block in blocks:
        arrays = [pa.array(column, type=f.type) for column, f in zip(block, SCHEMA, strict=True)]
        yield pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


@endpoint(
    bp,
    "/expression-matrix",
    "POST",
    summary="Expression of chosen genes in chosen cell types",
    description="Rows of barcode, cell_type, sample, gene, value — the stored non-zeros, or every cell × "
    "gene with `dense: true`. JSON (pandas `split` layout), CSV, Arrow IPC stream or Parquet by the Accept "
    "header; streamed.",
    tag="analysis",
    body=ExpressionMatrixRequest,
    media_types=tuple(MEDIA_TYPES[f] for f in FORMATS),
    errors=(400, 404, 406, 413, 503, 504),
)
def expression_matrix(body: ExpressionMatrixRequest):
    gw = get_gateway()
    limit = gw.config.max_matrix_genes
    if len(body.gene_names) > limit:
        raise PayloadTooLarge(
            f"gene_names: {len(body.gene_names)} genes requested, at most {limit} per request",
            field="gene_names",
        )
    fmt = negotiate(request.accept_mimetypes, FORMATS)
    catalog = gw.catalog.dataset(body.dataset)
    genes = list(dict.fromkeys(catalog.gene(g, field_name="gene_names") for g in body.gene_names))
    cell_types = catalog.cell_type_list(body.cell_types)
    if body.dense:
        size = catalog.n_cells_of(cell_types) * len(genes)
        if size > gw.config.max_dense_values:
            raise PayloadTooLarge(
                f"dense: {size} values requested, at most {gw.config.max_dense_values}; "
                "ask for fewer genes or cell types, or the sparse form",
                field="dense",
            )
    sql = (_dense_sql if body.dense else _sparse_sql)(body.layer, cell_types)
    params = {"dataset": catalog.name, "genes": genes, "cell_types": cell_types}
    return export(
        gw.pool, sql, params, lambda blocks: write_batches(fmt, SCHEMA, _batches(blocks)), MEDIA_TYPES[fmt]
    )
