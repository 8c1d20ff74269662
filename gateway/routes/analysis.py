"""The seed's endpoints: gene–gene correlation and gene variability, exact."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from gateway.analyses.cells import count_cells, select_cells, study_metadata
from gateway.analyses.correlation import correlate
from gateway.analyses.hvg import Cutoffs, gene_moments, rank_highly_variable
from gateway.analyses.scatter import pair_values
from gateway.analyses.variability import rank_selected_variability, rank_variability
from gateway.errors import BadRequest
from gateway.http.endpoint import endpoint, json_response
from gateway.routes.gene_reports import renamed
from gateway.schemas import (
    GeneCorrelationRequest,
    GeneCorrelationResponse,
    GenePairRequest,
    GenePairResponse,
    GeneVariabilityItem,
    GeneVariabilityRequest,
    GeneVariabilityResponse,
    HighlyVariableGenesRequest,
    HighlyVariableGenesResponse,
)
from gateway.state import get_dataset

bp = Blueprint("analysis", __name__)


@endpoint(
    bp,
    "/gene-correlation",
    "POST",
    summary="Correlation of two genes over the chosen cell types",
    description="Over EVERY cell of the chosen cell types, zeros included (observation_count cells). "
    "`correlation` is the coefficient of `method` (pearson, or spearman with ties averaged), p_value "
    "two-sided as scipy.stats.pearsonr / spearmanr. `by` adds a per-group breakdown. The seed's "
    "`pearson_correlation` (= `correlation`) comes only with Pearson requests.",
    tag="analysis",
    body=GeneCorrelationRequest,
    response=GeneCorrelationResponse,
)
def gene_correlation(body: GeneCorrelationRequest):
    gw, catalog = get_dataset(body.dataset)
    gene_a = catalog.gene(body.gene_a, field_name="gene_a")
    gene_b = catalog.gene(body.gene_b, field_name="gene_b")
    selection = select_cells(gw.pool, catalog, body.cell_types, body.where)
    if body.by is not None:
        study_metadata(gw.pool, catalog).group_column(body.by, field_name="by")
    overall, groups, difference = correlate(
        gw.pool,
        catalog,
        gene_a=gene_a,
        gene_b=gene_b,
        selection=selection,
        method=body.method,
        by=body.by,
    )
    answer = GeneCorrelationResponse(
        gene_a=gene_a,
        gene_b=gene_b,
        cell_types=list(selection.cell_types),
        dataset=catalog.name,
        method=body.method,
        by=body.by,
        groups=groups,
        difference=difference,
        resolved=renamed((body.gene_a, gene_a), (body.gene_b, gene_b)),
        **overall.model_dump(),
    )
    if body.method == "pearson":
        return answer
    # A Spearman ρ never travels under the seed's Pearson name.
    exclude: dict[str, Any] = {"pearson_correlation": True}
    if groups is not None:
        exclude["groups"] = {"__all__": {"pearson_correlation"}}
    return json_response(answer, exclude=exclude)


@endpoint(
    bp,
    "/gene-variability",
    "POST",
    summary="Most variable genes of a cell type (highest cv first)",
    description="From marts.gene_stats: mean, standard deviation (n − 1) and cv over every cell of the "
    "cell type, zeros included; genes with mean 0 (cv undefined) are left out.",
    tag="analysis",
    body=GeneVariabilityRequest,
    response=GeneVariabilityResponse,
)
def gene_variability(body: GeneVariabilityRequest):
    gw, catalog = get_dataset(body.dataset)
    cell_type = catalog.cell_type(body.cell_type)
    if body.where:
        selection = select_cells(gw.pool, catalog, [cell_type], body.where)
        n = count_cells(gw.pool, catalog, selection)
        if n < 2:
            raise BadRequest(
                f"where: {n} cell(s) of {cell_type!r} are selected; at least 2 are needed", field="where"
            )
        ranked = rank_selected_variability(gw.pool, catalog.name, selection, n)
    else:
        ranked = catalog.memo(
            ("variability", cell_type), lambda: rank_variability(gw.pool, catalog.name, cell_type)
        )
    rows = ranked.top(body.limit, body.min_mean, body.min_pct_expressing)
    return GeneVariabilityResponse([GeneVariabilityItem(**row) for row in rows])


@endpoint(
    bp,
    "/highly-variable-genes",
    "POST",
    summary="Highly variable genes of a group of cells (scanpy's seurat and cell_ranger flavours)",
    description="As `sc.pp.highly_variable_genes(adata, flavor=…)` on the lognorm matrix of the chosen "
    "cells (every cell, zeros included; variance n − 1) with the genes detected in at least one of them: "
    "dispersion = variance / mean in mean bins (seurat: of expm1(lognorm), logged, 20 equal-width bins of "
    "log1p(mean); cell_ranger: of lognorm, percentile bins, median/MAD), normalised within the bin. "
    "`n_top_genes` keeps the top genes (ties kept), otherwise scanpy's cutoffs decide.",
    tag="analysis",
    body=HighlyVariableGenesRequest,
    response=HighlyVariableGenesResponse,
)
def highly_variable_genes(body: HighlyVariableGenesRequest):
    gw, catalog = get_dataset(body.dataset)
    given = {
        name: value
        for name in ("min_mean", "max_mean", "min_disp", "max_disp")
        if (value := getattr(body, name)) is not None
    }
    if body.n_top_genes is not None and given:
        raise BadRequest(
            f"n_top_genes: give n_top_genes or cutoffs ({', '.join(given)}), not both", field="n_top_genes"
        )
    selection = select_cells(gw.pool, catalog, body.cell_types, body.where)
    n = count_cells(gw.pool, catalog, selection)
    if n < 2:
        raise BadRequest(f"where: {n} cell(s) are selected; at least 2 are needed", field="where")

    def moments():
        return gene_moments(gw.pool, catalog.name, selection, n, body.flavor)

    if selection.has_where or len(selection.cell_types) > 1:
        found = moments()
    else:  # one cell type or every cell: once per load
        found = catalog.memo(("hvg", body.flavor, selection.cell_types), moments)
    ranked = rank_highly_variable(
        found, body.flavor, n_bins=body.n_bins, n_top_genes=body.n_top_genes, cutoffs=Cutoffs(**given)
    )
    # HighlyVariableGenesResponse's fields, serialised as they are: tens of thousands of genes as item models
    # would cost a tenth of a second per answer (the bytes are the same; tests/unit/test_hvg.py).
    return json_response(
        {
            "dataset": catalog.name,
            "flavor": body.flavor,
            "cell_types": list(selection.cell_types),
            "observation_count": n,
            "n_genes": len(ranked.genes),
            "n_highly_variable": int(ranked.highly_variable.sum()),
            "genes": ranked.items(subset=body.subset),
        }
    )


@endpoint(
    bp,
    "/gene-pair",
    "POST",
    summary="Two genes cell by cell (scatter-plot data), zeros included",
    description="Every cell of the chosen cell types: up to `max_points` cells come back as points "
    "(barcode, cell type, lognorm of gene_a and gene_b, 0 where not detected); more come back as a "
    "`bins` × `bins` histogram whose bin 0 holds exactly the zeros. The counts of cells expressing "
    "either gene are those of /gene-correlation.",
    tag="analysis",
    body=GenePairRequest,
    response=GenePairResponse,
)
def gene_pair(body: GenePairRequest):
    gw, catalog = get_dataset(body.dataset)
    gene_a = catalog.gene(body.gene_a, field_name="gene_a")
    gene_b = catalog.gene(body.gene_b, field_name="gene_b")
    selection = select_cells(gw.pool, catalog, body.cell_types, body.where)
    values = pair_values(
        gw.pool,
        catalog,
        gene_a=gene_a,
        gene_b=gene_b,
        selection=selection,
        max_points=body.max_points,
        bins=body.bins,
    )
    return GenePairResponse(
        gene_a=gene_a,
        gene_b=gene_b,
        dataset=catalog.name,
        cell_types=list(selection.cell_types),
        resolved=renamed((body.gene_a, gene_a), (body.gene_b, gene_b)),
        **values,
    )
