"""Cell types: marker genes with Welch t-test statistics."""

from __future__ import annotations

import numpy as np
from flask import Blueprint

from gateway.api import endpoint
from gateway.models import MarkerItem, MarkersQuery, MarkersResponse
from gateway.state import get_gateway
from gateway.stats import benjamini_hochberg, welch_p_values

bp = Blueprint("cell_types", __name__)


def _nullable(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


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
    gw = get_gateway()
    catalog = gw.catalog.dataset(query.dataset)
    name = catalog.cell_type(cell_type)
    rows = gw.pool.fetch(
        "SELECT gene, log2_fold_change, t_statistic, df, mean_in, mean_out, pct_in, pct_out "
        "FROM marts.marker_genes WHERE dataset = {dataset:String} AND cell_type = {cell_type:String}",
        {"dataset": catalog.name, "cell_type": name},
    )
    t = np.array([np.nan if r["t_statistic"] is None else r["t_statistic"] for r in rows], dtype=float)
    df = np.array([np.nan if r["df"] is None else r["df"] for r in rows], dtype=float)
    p = welch_p_values(t, df)
    adjusted = benjamini_hochberg(p)
    # Highest t first; undefined t (constant in both groups) last; gene name breaks ties.
    order = sorted(
        range(len(rows)), key=lambda i: (np.isnan(t[i]), -t[i] if not np.isnan(t[i]) else 0, rows[i]["gene"])
    )
    results = [
        MarkerItem(
            gene=rows[i]["gene"],
            log2_fold_change=rows[i]["log2_fold_change"],
            t_statistic=_nullable(t[i]),
            p_value=_nullable(p[i]),
            p_value_adj=_nullable(adjusted[i]),
            mean_in=rows[i]["mean_in"],
            mean_out=rows[i]["mean_out"],
            pct_in=rows[i]["pct_in"],
            pct_out=rows[i]["pct_out"],
        )
        for i in order[: query.limit]
    ]
    return MarkersResponse(cell_type=name, dataset=catalog.name, results=results)
