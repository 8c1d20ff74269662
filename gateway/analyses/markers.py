"""Marker genes of a cell type, ranked once per cell type and load: all but the `limit` is per cell type.

The Welch statistics are in marts.marker_genes; the p-values (the t distribution, which ClickHouse lacks) and
Benjamini–Hochberg over all genes of the cell type are computed here with scipy, then kept with the dataset's
catalog entry, which a reload of the dataset replaces — so a request only slices the ranked list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.analyses.stats import benjamini_hochberg, welch_p_values
from gateway.clients import ClientPool

COLUMNS = (
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

    def top(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` genes as response items (NaN → None)."""
        head = {n: [None if np.isnan(v) else float(v) for v in self.values[n][:limit]] for n in COLUMNS}
        return [{"gene": g, **{n: head[n][i] for n in COLUMNS}} for i, g in enumerate(self.genes[:limit])]


def _column(rows: list[dict[str, Any]], name: str) -> np.ndarray:
    return np.array([np.nan if r[name] is None else r[name] for r in rows], dtype=float)


def rank_markers(pool: ClientPool, dataset: str, cell_type: str) -> RankedMarkers:
    """Every gene of the cell type with its p-values, ranked."""
    rows = pool.fetch(
        "SELECT gene, log2_fold_change, t_statistic, df, mean_in, mean_out, pct_in, pct_out "
        "FROM marts.marker_genes WHERE dataset = {dataset:String} AND cell_type = {cell_type:String}",
        {"dataset": dataset, "cell_type": cell_type},
    )
    values = {name: _column(rows, name) for name in COLUMNS if name not in ("p_value", "p_value_adj")}
    t = values["t_statistic"]
    values["p_value"] = welch_p_values(t, _column(rows, "df"))
    values["p_value_adj"] = benjamini_hochberg(values["p_value"])
    genes = np.array([r["gene"] for r in rows], dtype=object)
    undefined = np.isnan(t)
    # lexsort: the last key is the primary one — undefined t last, then highest t, then gene name.
    order = np.lexsort((genes, np.where(undefined, 0.0, -t), undefined))
    return RankedMarkers(genes=genes[order].tolist(), values={k: v[order] for k, v in values.items()})
