"""Differential expression between any two groups of cells (or one group and the rest)."""

from __future__ import annotations

from flask import Blueprint

from gateway.analyses.cells import CellSelection, select_cells
from gateway.analyses.differential import compare
from gateway.analyses.stats import MIN_GROUP_SIZE
from gateway.catalog import DatasetCatalog
from gateway.clients import ClientPool
from gateway.gene_names import Resolution
from gateway.http.endpoint import endpoint
from gateway.routes.gene_reports import reported
from gateway.schemas import (
    CellGroup,
    DifferentialExpressionItem,
    DifferentialExpressionRequest,
    DifferentialExpressionResponse,
)
from gateway.state import get_dataset

bp = Blueprint("differential", __name__)


def _group(pool: ClientPool, catalog: DatasetCatalog, group: CellGroup, name: str) -> CellSelection:
    """One side of the comparison, its errors naming the side (`group_a.where.donor_id: …`)."""
    return select_cells(
        pool,
        catalog,
        group.cell_types,
        group.where,
        field_name=f"{name}.where",
        cell_types_field=f"{name}.cell_types",
    )


@endpoint(
    bp,
    "/differential-expression",
    "POST",
    summary="Differential expression of every gene between two groups of cells",
    description="Group A (`cell_types` and/or `where`) against group B, or against every other cell of the "
    "dataset when `group_b` is omitted; over every cell of both groups, zeros included. scanpy's "
    "rank_genes_groups numbers: `wilcoxon` — score is the tie-corrected rank-sum z (the zeros are one tie), "
    "p = 2·sf(|z|) as scipy.stats.mannwhitneyu(method='asymptotic', use_continuity=False); `t-test` — "
    "Welch's t as scipy.stats.ttest_ind(equal_var=False). log2 fold change of expm1 means (+1e-9), "
    "Benjamini–Hochberg over every gene tested (an undefined p counts as 1), pct as fractions. Sorted by "
    "score, highest first. Groups that overlap, are empty or hold one cell are refused (400). `genes` "
    "resolve as in /dot-plot: unknown ones are listed in `unknown`, the others tested.",
    tag="analysis",
    body=DifferentialExpressionRequest,
    response=DifferentialExpressionResponse,
)
def differential_expression(body: DifferentialExpressionRequest):
    gw, catalog = get_dataset(body.dataset)
    group_a = _group(gw.pool, catalog, body.group_a, "group_a")
    group_b = _group(gw.pool, catalog, body.group_b, "group_b") if body.group_b is not None else None
    resolution = Resolution()
    if body.genes is not None:
        resolution = catalog.resolve_genes(body.genes, field_name="genes")
    genes = resolution.genes if body.genes is not None else None
    result = compare(
        gw.pool, catalog, group_a, group_b, method=body.method, tie_correct=body.tie_correct, genes=genes
    )
    return DifferentialExpressionResponse(
        dataset=catalog.name,
        method=body.method,
        n_a=result.n_a,
        n_b=result.n_b,
        min_group_size=MIN_GROUP_SIZE,
        small_group=min(result.n_a, result.n_b) < MIN_GROUP_SIZE,
        results=[DifferentialExpressionItem(**item) for item in result.top(body.limit)],
        **reported(resolution),
    )
