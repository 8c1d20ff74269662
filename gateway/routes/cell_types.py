"""Cell types: marker genes with Welch t-test statistics."""

from __future__ import annotations

from flask import Blueprint

from gateway.analyses.cells import select_cells
from gateway.analyses.markers import compared_markers, rank_markers
from gateway.http.endpoint import endpoint
from gateway.schemas import MarkerItem, MarkersQuery, MarkersResponse
from gateway.state import get_dataset

bp = Blueprint("cell_types", __name__)


@endpoint(
    bp,
    "/cell-types/<path:cell_type>/markers",
    "GET",
    summary="Marker genes of a cell type vs the rest",
    description="The cell type against all other cells (zeros included), ranked by `score` descending: "
    "Welch's t-test (`t_statistic`, precomputed in marts.marker_genes) or `method=wilcoxon`, the "
    "tie-corrected rank-sum z (the zeros one tie block; computed on request, then kept for the load). "
    "Two-sided p-values, Benjamini–Hochberg over all genes (as POST /differential-expression). A `where` "
    "restricts the cell type and its rest alike (computed on request).",
    tag="cell types",
    query=MarkersQuery,
    response=MarkersResponse,
    path_params={"cell_type": "cell type name, e.g. CD4+/CD25 T Reg (percent-encode '/', spaces)"},
)
def markers(cell_type: str, query: MarkersQuery):
    gw, catalog = get_dataset(query.dataset)
    name = catalog.cell_type(cell_type)
    terms = select_cells(gw.pool, catalog, (), query.where).terms
    if terms:
        ranked = compared_markers(gw.pool, catalog, name, terms, method=query.method)
    elif query.method == "wilcoxon":
        ranked = catalog.memo(
            ("markers-wilcoxon", name),
            lambda: compared_markers(gw.pool, catalog, name, (), method="wilcoxon"),
        )
    else:
        ranked = catalog.memo(("markers", name), lambda: rank_markers(gw.pool, catalog.name, name))
    results = [MarkerItem(**item) for item in ranked.top(query.limit)]
    return MarkersResponse(cell_type=name, dataset=catalog.name, results=results)
