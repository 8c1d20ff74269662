"""Marker genes of a cell type, ranked once per cell type and load: all but the `limit` is per cell type.

The Welch statistics are in marts.marker_genes; the p-values (the t distribution, which ClickHouse lacks) and
Benjamini–Hochberg over all genes of the cell type are computed here with scipy, then kept with the dataset's
catalog entry, which a reload of the dataset replaces — so a request only slices the ranked list. The Wilcoxon
test, and either test restricted by a `where`, are POST /differential-expression's comparison of the cell type
with its rest, computed on request (the Wilcoxon one vs rest is then kept like the t-test's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.analyses.cells import AnyTerm, CellSelection
from gateway.analyses.differential import compare
from gateway.analyses.stats import benjamini_hochberg, fold_change_parts, score_order, welch_p_values
from gateway.catalog import DatasetCatalog
from gateway.clients import ClientPool

COLUMNS = (
    "score",
    "log2_fold_change",
    "t_statistic",
    "p_value",
    "p_value_adj",
    "mean_in",
    "mean_out",
    "pct_in",
    "pct_out",
)


@dataclass(frozen=True)
class RankedMarkers:
    """One cell type's genes, highest t first (undefined t last, gene name breaking ties), column-wise."""

    genes: list[str]
    values: dict[str, np.ndarray]  # column → float64 values in ranked order, NaN for NULL
    n_in: int | None = None  # the groups' sizes when a `where` chose them (else the catalog's)
    n_out: int | None = None

    def top(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` genes as response items (NaN → None), with the expm1 means the fold change is
        computed from and whether only the pseudocount decides it."""
        head = {n: [None if np.isnan(v) else float(v) for v in self.values[n][:limit]] for n in COLUMNS}
        mean_out = np.nan_to_num(self.values["mean_out"][:limit])
        parts = fold_change_parts(self.values["mean_in"][:limit], mean_out)
        return [
            {
                "gene": g,
                **{n: head[n][i] for n in COLUMNS},
                "expm1_mean_in": float(parts["expm1_a"][i]),
                "expm1_mean_out": float(parts["expm1_b"][i]),
                "fold_change_bound": bool(parts["bound"][i]),
            }
            for i, g in enumerate(self.genes[:limit])
        ]


def _column(rows: list[dict[str, Any]], name: str) -> np.ndarray:
    return np.array([np.nan if r[name] is None else r[name] for r in rows], dtype=float)


def rank_markers(pool: ClientPool, dataset: str, cell_type: str) -> RankedMarkers:
    """Every gene of the cell type with its p-values, ranked."""
    rows = pool.fetch(
        "SELECT gene, log2_fold_change, t_statistic, df, mean_in, mean_out, pct_in, pct_out "
        "FROM marts.marker_genes WHERE dataset = {dataset:String} AND cell_type = {cell_type:String}",
        {"dataset": dataset, "cell_type": cell_type},
    )
    values = {
        name: _column(rows, name) for name in COLUMNS if name not in ("score", "p_value", "p_value_adj")
    }
    t = values["t_statistic"]
    values["p_value"] = welch_p_values(t, _column(rows, "df"))
    values["p_value_adj"] = benjamini_hochberg(values["p_value"])
    values["score"] = t
    genes = np.array([r["gene"] for r in rows], dtype=object)
    order = score_order(genes, t)
    return RankedMarkers(genes=genes[order].tolist(), values={k: v[order] for k, v in values.items()})


def compared_markers(
    pool: ClientPool, catalog: DatasetCatalog, cell_type: str, terms: tuple[AnyTerm, ...], *, method: str
) -> RankedMarkers:
    """The cell type against every other cell, both restricted by `terms` (a request's `where`), computed on
    request over the stored values (the Wilcoxon test, and any `where`)."""
    group = CellSelection((cell_type,), terms)
    # Without a where the rest is every other cell: compare's own complement, which reads no second set.
    rest = CellSelection(terms=terms, excluded_cell_types=(cell_type,)) if terms else None
    result = compare(pool, catalog, group, rest, method=method)
    values = {
        "score": result.values["score"],
        "log2_fold_change": result.values["log2_fold_change"],
        "t_statistic": result.values["score"] if method == "t-test" else np.full(len(result.genes), np.nan),
        "p_value": result.values["p_value"],
        "p_value_adj": result.values["p_value_adj"],
        "mean_in": result.values["mean_a"],
        "mean_out": result.values["mean_b"],
        "pct_in": result.values["pct_a"],
        "pct_out": result.values["pct_b"],
    }
    return RankedMarkers(genes=result.genes, values=values, n_in=result.n_a, n_out=result.n_b)
