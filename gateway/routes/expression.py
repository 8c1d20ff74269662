"""POST /expression-matrix: a subset of the matrix in long form, streamed in the format Accept asks for."""

from __future__ import annotations

from flask import Blueprint, request

from gateway.analyses.matrix import SCHEMA, matrix_batches, matrix_query
from gateway.errors import PayloadTooLarge
from gateway.http.endpoint import endpoint
from gateway.http.formats import MEDIA_TYPES, negotiate, write_batches
from gateway.http.streaming import export
from gateway.schemas import ExpressionMatrixRequest
from gateway.state import get_dataset, get_gateway

bp = Blueprint("expression", __name__)

FORMATS = ("json", "csv", "arrow", "parquet")


@endpoint(
    bp,
    "/expression-matrix",
    "POST",
    summary="Expression of chosen genes in chosen cell types",
    description="Rows of barcode, cell_type, sample, gene, value — the stored non-zeros, or every cell × "
    "gene with `dense: true`. JSON (pandas `split` layout), CSV, Arrow IPC stream or Parquet by the Accept "
    "header; streamed. In CSV, a text cell starting with =, +, -, @, tab or CR gets a leading ' so "
    "spreadsheets show it as text instead of running it (JSON, Arrow and Parquet carry it unchanged).",
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
    _, catalog = get_dataset(body.dataset)
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
    sql, params = matrix_query(catalog.name, genes, cell_types, layer=body.layer, dense=body.dense)
    return export(
        gw.pool,
        sql,
        params,
        lambda blocks: write_batches(fmt, SCHEMA, matrix_batches(blocks)),
        MEDIA_TYPES[fmt],
    )
