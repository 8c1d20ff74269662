"""Cell types: marker genes with Welch t-test statistics."""

from __future__ import annotations

from flask import Blueprint

from gateway.analyses.markers import rank_markers
from gateway.http.endpoint import endpoint
from gateway.schemas import MarkerItem, MarkersQuery, MarkersResponse
from gateway.state import get_dataset

bp = Blueprint("cell_types", __name__)


@endpoint(
    bp,
    "/cell-types/<path:cell_type>/markers",
    "GET",
    summary="Marker genes of a cell type vs the rest",
    description="Welch t-test of the cell type against all other cells (zeros included), ranked by "
    "t_statistic descending; two-sided p-values from the t distribution, Benjamini–Hochberg over all genes.",
    tag="cell types",
    query=MarkersQuery,
    response=MarkersResponse,
    path_params={"cell_type": "cell type name, e.g. CD4+/CD25 T Reg (percent-encode '/', spaces)"},
)
def markers(cell_type: str, query: MarkersQuery):
    gw, catalog = get_dataset(query.dataset)
    name = catalog.cell_type(cell_type)
    ranked = catalog.memo(("markers", name), lambda: rank_markers(gw.pool, catalog.name, name))
    results = [MarkerItem(**item) for item in ranked.top(query.limit)]
    return MarkersResponse(cell_type=name, dataset=catalog.name, results=results)
