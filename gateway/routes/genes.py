"""Genes: lookup by prefix, dot-plot data per cell type, co-expression."""

from __future__ import annotations

from flask import Blueprint

from gateway.analyses.cells import count_cells, select_cells, study_metadata
from gateway.analyses.coexpression import coexpressed
from gateway.analyses.distribution import distribution
from gateway.analyses.dotplot import axis_orders, collapsed, dot_rows, selected_dot_rows
from gateway.analyses.genes import genes_by_name
from gateway.http.endpoint import endpoint
from gateway.routes.gene_reports import renamed, reported
from gateway.schemas import (
    CoexpressionItem,
    CoexpressionQuery,
    CoexpressionResponse,
    DatasetQuery,
    DistributionGroup,
    DistributionQuery,
    DistributionResponse,
    DotPlotCell,
    DotPlotQuery,
    DotPlotRequest,
    DotPlotResponse,
    DotPlotRow,
    GeneCellTypesResponse,
    GeneItem,
    GenesQuery,
    GenesResponse,
)
from gateway.state import get_dataset

bp = Blueprint("genes", __name__)
GENE_PARAM = {
    "gene": "gene symbol or gene id (any case when only one gene matches); may contain '/', '+', spaces "
    "(percent-encode them)"
}


@endpoint(
    bp,
    "/genes",
    "GET",
    summary="Genes of a dataset, optionally matching a typed name (autocomplete)",
    description="Without `prefix`, genes by symbol. With it, ranked as the suggestions for an unknown gene "
    "are: the gene itself (any case, or its id), then symbols starting with it (the family first: CD3 → "
    "CD3D, CD3E, CD3G before CD36 and CD300A; shorter first), then gene ids starting with it, then "
    "look-alikes one edit away (`match` says which).",
    tag="genes",
    query=GenesQuery,
    response=GenesResponse,
)
def list_genes(query: GenesQuery):
    gw, catalog = get_dataset(query.dataset)
    ranked = catalog.names.complete(query.prefix, query.limit)
    rows = genes_by_name(gw.pool, catalog.name, [symbol for symbol, _ in ranked])
    genes = [GeneItem(**rows[symbol], match=how) for symbol, how in ranked if symbol in rows]
    return GenesResponse(dataset=catalog.name, prefix=query.prefix, genes=genes)


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
        gene=symbol,
        dataset=catalog.name,
        cell_types=[DotPlotRow(**row) for row in rows],
        resolved=renamed((gene, symbol)),
    )


DOT_PLOT_DESCRIPTION = (
    "Per gene × cell type, as `/genes/{gene}/cell-types`: mean over all cells (zeros included), fraction "
    "expressing, mean over the expressing cells. `genes` and `cell_types` come in display order "
    "(`cell_order`, `gene_order`). Genes are symbols or ids, in any case when only one gene matches "
    "(`resolved` lists the names read as another symbol); unknown names do not stop the plot: every one is "
    "listed in `unknown` with suggestions (a 404 only when no name is a gene)."
)


@endpoint(
    bp,
    "/dot-plot",
    "GET",
    summary="Dot-plot data: several genes in every cell type, in display order",
    description=DOT_PLOT_DESCRIPTION,
    tag="genes",
    query=DotPlotQuery,
    response=DotPlotResponse,
)
def dot_plot(query: DotPlotQuery):
    return _dot_plot(query)


@endpoint(
    bp,
    "/dot-plot",
    "POST",
    summary="Dot-plot data for a long gene list (up to 5,000 genes): GET /dot-plot's arguments as JSON",
    description=DOT_PLOT_DESCRIPTION,
    tag="genes",
    body=DotPlotRequest,
    response=DotPlotResponse,
)
def dot_plot_post(body: DotPlotRequest):
    return _dot_plot(body)


def _dot_plot(query: DotPlotQuery) -> DotPlotResponse:
    gw, catalog = get_dataset(query.dataset)
    resolution = catalog.resolve_genes(query.genes, field_name="genes")
    genes = resolution.genes
    if query.compare_by is not None:
        study_metadata(gw.pool, catalog).group_column(query.compare_by, field_name="compare_by")
    if query.where or query.compare_by is not None:
        selection = select_cells(gw.pool, catalog, (), query.where)
        rows = selected_dot_rows(gw.pool, catalog.name, genes, selection, query.compare_by)
        ordering = collapsed(rows)
    else:
        rows = ordering = dot_rows(gw.pool, catalog.name, genes)
    ordered_genes, cell_types = axis_orders(
        ordering, genes, cell_order=query.cell_order, gene_order=query.gene_order
    )
    return DotPlotResponse(
        dataset=catalog.name,
        compare_by=query.compare_by,
        genes=ordered_genes,
        cell_types=cell_types,
        rows=[DotPlotCell(**row) for row in rows],
        **reported(resolution),
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
    selection = select_cells(gw.pool, catalog, query.cell_types, query.where)
    n = count_cells(gw.pool, catalog, selection)
    results, note = coexpressed(
        gw.pool, dataset=catalog.name, gene=symbol, selection=selection, n=n, limit=query.limit
    )
    return CoexpressionResponse(
        gene=symbol,
        dataset=catalog.name,
        cell_types=list(selection.cell_types),
        observation_count=n,
        results=[CoexpressionItem(**r) for r in results],
        note=note,
        resolved=renamed((gene, symbol)),
    )


@endpoint(
    bp,
    "/genes/<path:gene>/distribution",
    "GET",
    summary="Violin / histogram data: a gene's per-cell lognorm values in each cell type",
    description="Per cell type of the chosen cells: the cells where the gene is not detected (exactly 0) as "
    "`n_zero`, and a histogram of the non-zero values on `bins` equal-width bins shared by every cell type "
    "(numpy.histogram's edges and rule), binned in ClickHouse; with mean (zeros included) and mean over the "
    "expressing cells.",
    tag="genes",
    query=DistributionQuery,
    response=DistributionResponse,
    path_params=GENE_PARAM,
)
def gene_distribution(gene: str, query: DistributionQuery):
    gw, catalog = get_dataset(query.dataset)
    symbol = catalog.gene(gene)
    selection = select_cells(gw.pool, catalog, query.cell_types, query.where)
    found = distribution(gw.pool, catalog, symbol, selection, bins=query.bins)
    return DistributionResponse(
        gene=symbol,
        dataset=catalog.name,
        cell_types=list(selection.cell_types),
        edges=found["edges"],
        groups=[DistributionGroup(**group) for group in found["groups"]],
    )
