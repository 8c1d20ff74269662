"""POST /expression-matrix: a subset of the matrix in long form, streamed in the format Accept asks for."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from flask import Blueprint, Response, request

from gateway.analyses.cells import CellSelection, count_cells, select_cells
from gateway.analyses.matrix import SCHEMA, anndata_queries, matrix_batches, matrix_query
from gateway.clients import as_api_errors
from gateway.errors import PayloadTooLarge
from gateway.gene_names import Resolution
from gateway.http.endpoint import endpoint
from gateway.http.formats import MEDIA_TYPES, negotiate, write_batches
from gateway.http.spool import Spool
from gateway.http.streaming import export
from gateway.routes.gene_reports import reported
from gateway.schemas import ExpressionMatrixRequest
from gateway.state import Gateway, get_dataset, get_gateway

if TYPE_CHECKING:
    import pandas as pd

    from gateway.http import h5ad

bp = Blueprint("expression", __name__)
# The answer streams, so what the gene names resolved to travels in headers: JSON, ASCII-escaped.
RESOLVED_HEADER = "Genostream-Resolved-Genes"
UNKNOWN_HEADER = "Genostream-Unknown-Genes"


def _with_genes(response: Response, resolution: Resolution) -> Response:
    """The response with the resolved/unknown gene headers (only those with entries)."""
    for header, key in ((RESOLVED_HEADER, "resolved"), (UNKNOWN_HEADER, "unknown")):
        entries = reported(resolution)[key]
        if entries:
            listed = [entry.model_dump() for entry in entries]
            response.headers[header] = json.dumps(listed, ensure_ascii=True, separators=(",", ":"))
    return response


FORMATS = ("json", "csv", "arrow", "parquet", "h5ad")


def _entries(blocks: Iterable[Any], cells: np.ndarray, genes: pd.Index) -> Iterator[h5ad.Entries]:
    """The engine's (cell, gene, value) blocks as (obs row, var column, value) arrays."""
    for cell, gene, value in blocks:
        rows = np.searchsorted(cells, np.asarray(cell, dtype=np.int64))
        yield rows, genes.get_indexer(list(gene)), np.asarray(value, dtype=np.float64)


def _anndata(gw: Gateway, dataset: str, genes: list[str], selection: CellSelection, layer: str) -> Response:
    """The selection as an .h5ad file, spooled (RAM up to the spool bound, then disk) and sent whole."""
    # anndata (and pandas) load with the first .h5ad answer, not with every gateway start (0.4 s of it).
    from gateway.http import h5ad

    sql, params = anndata_queries(dataset, genes, selection, layer=layer)
    cells = gw.pool.fetch(sql["obs"], params)
    ids = {row["gene"]: row["gene_id"] for row in gw.pool.fetch(sql["var"], params)}
    load = gw.pool.fetch(sql["load"], params)[0]["load_id"]
    obs = h5ad.obs_frame(cells)
    var = h5ad.var_frame(genes, [ids[g] for g in genes])
    cell_ids = np.array([row["cell"] for row in cells], dtype=np.int64)
    spool = Spool(gw.config.spool_memory_bytes)
    try:
        timeout = gw.config.query_timeout_s
        with (
            as_api_errors(timeout_s=timeout),
            gw.pool.using("main") as client,
            client.query_column_block_stream(sql["x"], parameters=params) as stream,
            spool.file() as file,
        ):
            h5ad.write_h5ad(
                file,
                obs=obs,
                var=var,
                uns={"dataset": dataset, "layer": layer, "load": load},
                x_blocks=h5ad.csr_blocks(_entries(stream, cell_ids, var.index), len(obs), len(var)),
            )
    except BaseException:
        spool.close()
        raise
    return spool.response(MEDIA_TYPES["h5ad"])


@endpoint(
    bp,
    "/expression-matrix",
    "POST",
    summary="Expression of chosen genes in chosen cell types",
    description="Rows of barcode, cell_type, sample, gene, value — the stored non-zeros, or every cell × "
    "gene with `dense: true`. JSON (pandas `split` layout), CSV, Arrow IPC stream or Parquet by the Accept "
    "header; streamed. In CSV, a text cell starting with =, +, -, @, tab or CR gets a leading ' so "
    "spreadsheets show it as text instead of running it (JSON, Arrow and Parquet carry it unchanged). With "
    "`Accept: application/x-hdf5`, the selection as AnnData (.h5ad: X sparse CSR cells × genes of `layer`, "
    "obs by barcode with every metadata column, var by gene with gene_id, uns naming dataset, layer and "
    "load), spooled and sent whole. Gene names resolve as in /dot-plot; as the answer streams, the names "
    "read as another symbol and the unknown ones (with suggestions) come as JSON in the "
    "`Genostream-Resolved-Genes` and `Genostream-Unknown-Genes` headers (a 404 only when no name is a gene).",
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
    resolution = catalog.resolve_genes(body.gene_names, field_name="gene_names")
    genes = resolution.genes
    selection = select_cells(gw.pool, catalog, body.cell_types, body.where)
    if body.dense:
        size = count_cells(gw.pool, catalog, selection) * len(genes)
        if size > gw.config.max_dense_values:
            raise PayloadTooLarge(
                f"dense: {size} values requested, at most {gw.config.max_dense_values}; "
                "ask for fewer genes or cell types, or the sparse form",
                field="dense",
            )
    if fmt == "h5ad":
        return _with_genes(_anndata(gw, catalog.name, genes, selection, body.layer), resolution)
    sql, params = matrix_query(catalog.name, genes, selection, layer=body.layer, dense=body.dense)
    response = export(
        gw.pool,
        sql,
        params,
        lambda blocks: write_batches(fmt, SCHEMA, matrix_batches(blocks)),
        MEDIA_TYPES[fmt],
    )
    return _with_genes(response, resolution)
