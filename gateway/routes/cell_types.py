"""Cell types: marker genes with Welch t-test statistics."""

from __future__ import annotations

from flask import Blueprint

from gateway.analyses.cells import select_cells
from gateway.analyses.markers import compared_markers, rank_markers
from gateway.analyses.stats import MIN_GROUP_SIZE
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
    "restricts the cell type and its rest alike (computed on request). Each gene carries the expm1 means "
    "its fold change is computed from and `fold_change_bound` when only the pseudocount decides it; "
    "`small_group` flags a cell type (or rest) under `min_group_size` cells.",
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
    n_in = ranked.n_in if ranked.n_in is not None else catalog.cell_types[name]
    n_out = ranked.n_out if ranked.n_out is not None else catalog.info.n_cells - n_in
    return MarkersResponse(
        cell_type=name,
        dataset=catalog.name,
        n_in=n_in,
        n_out=n_out,
        min_group_size=MIN_GROUP_SIZE,
        small_group=min(n_in, n_out) < MIN_GROUP_SIZE,
        results=results,
    )
