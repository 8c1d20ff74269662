"""scanpy/AnnData in memory: read the .mtx as a user would, then answer with scanpy and numpy.

Values are read as float64 (scanpy's default is float32) so that any difference from the exact answers
comes from the method, not from rounding the input.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from bench.measure import stopwatch
from bench.peers.protocol import PeerContext, pearson_or_none, peer_main, timed_answers, top_by_cv
from bench.study import LOGNORM_TARGET_SUM, StudyFiles, make_unique, read_cell_types, read_tsv_columns


def load_anndata(context: PeerContext):
    """An AnnData (cells × genes, CSR, lognorm in X) with `cell_type` in obs, as a scanpy user builds it."""
    import pandas as pd
    import scanpy as sc

    files = StudyFiles.find(context.study_dir)
    adata = sc.read_mtx(files.matrix, dtype="float64").T
    gene_columns = read_tsv_columns(files.genes)
    adata.var_names = pd.Index(gene_columns[1] if len(gene_columns) > 1 else gene_columns[0])
    adata.var_names = pd.Index(make_unique(list(adata.var_names)))
    barcodes = read_tsv_columns(files.barcodes)[0]
    adata.obs_names = pd.Index(barcodes)
    if files.metadata is not None and context.cell_type_column:
        labels = read_cell_types(files.metadata, barcodes, context.cell_type_column)
    else:
        labels = np.full(len(barcodes), "unannotated", dtype=object)
    adata.obs["cell_type"] = pd.Categorical(labels.astype(str))
    adata.X = adata.X.tocsr()
    if context.value_kind == "counts":
        sc.pp.normalize_total(adata, target_sum=LOGNORM_TARGET_SUM)
        sc.pp.log1p(adata)
    return adata


def run(context: PeerContext) -> dict[str, Any]:
    import scanpy as sc

    with stopwatch() as load:
        adata = load_anndata(context)

    def correlation(request: dict[str, Any]) -> float | None:
        cells = adata.obs["cell_type"].isin(request["cell_types"]).to_numpy()
        x = adata[cells, [request["gene_a"], request["gene_b"]]].X.toarray()
        return pearson_or_none(x[:, 0], x[:, 1])

    def variability(request: dict[str, Any]) -> list[list[Any]]:
        sub = adata[adata.obs["cell_type"] == request["cell_type"]]
        stats = sc.get.aggregate(sub, by="cell_type", func=["mean", "var"], dof=1)
        row = list(stats.obs_names).index(request["cell_type"])
        mean = np.asarray(stats.layers["mean"][row]).ravel()
        var = np.asarray(stats.layers["var"][row]).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(mean > 0, np.sqrt(var) / mean, np.nan)
        return top_by_cv(list(adata.var_names), cv, request["limit"])

    def de_wilcoxon(request: dict[str, Any]) -> list[list[Any]]:
        """A cell type vs the rest, scanpy's tie-corrected Wilcoxon (what the gateway's score is)."""
        [cell_type] = request["group_a"]["cell_types"]
        sc.tl.rank_genes_groups(
            adata, "cell_type", groups=[cell_type], reference="rest", method="wilcoxon", tie_correct=True
        )
        ranked = sc.get.rank_genes_groups_df(adata, group=cell_type).head(request["limit"])
        return [[str(g), float(z)] for g, z in zip(ranked["names"], ranked["scores"], strict=True)]

    return {
        "load_s": round(load.seconds, 3),
        "n_obs": int(adata.n_obs),
        "n_vars": int(adata.n_vars),
        "correlation": timed_answers(context.requests("correlation"), correlation),
        "variability": timed_answers(context.requests("variability"), variability),
        "de_wilcoxon": timed_answers(context.requests("de_wilcoxon"), de_wilcoxon),
    }


if __name__ == "__main__":
    sys.exit(peer_main(run))
