"""Genes: lookup by prefix, dot-plot data per cell type, co-expression."""

from __future__ import annotations

from flask import Blueprint

from gateway.analyses.coexpression import coexpressed
from gateway.analyses.dotplot import axis_orders, dot_rows
from gateway.analyses.genes import genes_by_prefix
from gateway.http.endpoint import endpoint
from gateway.schemas import (
    CoexpressionItem,
    CoexpressionQuery,
    CoexpressionResponse,
    DatasetQuery,
    DotPlotCell,
    DotPlotQuery,
    DotPlotResponse,
    DotPlotRow,
    GeneCellTypesResponse,
    GeneItem,
    GenesQuery,
    GenesResponse,
)
from gateway.state import get_dataset

bp = Blueprint("genes", __name__)
GENE_PARAM = {"gene": "gene symbol or gene id; may contain '/', '+', spaces (percent-encode them)"}


@endpoint(
    bp,
    "/genes",
    "GET",
    summary="Genes of a dataset, optionally by symbol prefix",
    tag="genes",
    query=GenesQuery,
    response=GenesResponse,
)
def list_genes(query: GenesQuery):
    gw, catalog = get_dataset(query.dataset)
    rows = genes_by_prefix(gw.pool, catalog.name, query.prefix, limit=query.limit)
    return GenesResponse(dataset=catalog.name, prefix=query.prefix, genes=[GeneItem(**row) for row in rows])


@endpoint(
    bp,
    "/genes/<path:gene>/cell-types",
    "GET",
    summary="Dot-plot data: a gene in every cell type",
    description="Per cell type: mean over all its cells (zeros included), fraction expressing, and mean "
    "over the expressing cells (scanpy's dot plot).",
    tag="genes",
    query=DatasetQuery,
    response=GeneCellTypesResponse,
    path_params=GENE_PARAM,
)
def gene_cell_types(gene: str, query: DatasetQuery):
    gw, catalog = get_dataset(query.dataset)
    symbol = catalog.gene(gene)
    rows = dot_rows(gw.pool, catalog.name, [symbol])
    return GeneCellTypesResponse(
        gene=symbol, dataset=catalog.name, cell_types=[DotPlotRow(**row) for row in rows]
    )


@endpoint(
    bp,
    "/dot-plot",
    "GET",
    summary="Dot-plot data: several genes in every cell type, in display order",
    description="Per gene × cell type, as `/genes/{gene}/cell-types`: mean over all cells (zeros "
    "included), fraction expressing, mean over the expressing cells. `genes` and `cell_types` come in "
    "display order (`cell_order`, `gene_order`). An unknown gene is a 404 naming it, with suggestions.",
    tag="genes",
    query=DotPlotQuery,
    response=DotPlotResponse,
)
def dot_plot(query: DotPlotQuery):
    gw, catalog = get_dataset(query.dataset)
    genes = list(dict.fromkeys(catalog.gene(g, field_name="genes") for g in query.genes))
    rows = dot_rows(gw.pool, catalog.name, genes)
    ordered_genes, cell_types = axis_orders(
        rows, genes, cell_order=query.cell_order, gene_order=query.gene_order
    )
    return DotPlotResponse(
        dataset=catalog.name,
        genes=ordered_genes,
        cell_types=cell_types,
        rows=[DotPlotCell(**row) for row in rows],
    )


@endpoint(
    bp,
    "/genes/<path:gene>/coexpression",
    "GET",
    summary="Genes most correlated with a gene",
    description="Pearson r over every cell of the chosen cell types (zeros included), highest first; "
    "the gene itself and constant genes are excluded. p-values as scipy.stats.pearsonr.",
    tag="genes",
    query=CoexpressionQuery,
    response=CoexpressionResponse,
    path_params=GENE_PARAM,
)
def gene_coexpression(gene: str, query: CoexpressionQuery):
    gw, catalog = get_dataset(query.dataset)
    symbol = catalog.gene(gene)
    cell_types = catalog.cell_type_list(query.cell_types)
    n = catalog.n_cells_of(cell_types)
    results, note = coexpressed(
        gw.pool, dataset=catalog.name, gene=symbol, cell_types=cell_types, n=n, limit=query.limit
    )
    return CoexpressionResponse(
        gene=symbol,
        dataset=catalog.name,
        cell_types=cell_types,
        observation_count=n,
        results=[CoexpressionItem(**r) for r in results],
        note=note,
    )
