"""The most variable genes of a cell type: ranked by cv once per cell type and load, filtered per request.

Only the thresholds and the limit depend on a request; the cell type's genes with a defined cv, in cv order,
are read from marts.gene_stats once and kept with the dataset's catalog entry (replaced on a reload). With a
`where` the same numbers are computed on request from the stored rows of the selected cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.analyses.cells import CellSelection
from gateway.analyses.stats import score_order, with_zeros
from gateway.clients import ClientPool


@dataclass(frozen=True)
class RankedVariability:
    """One cell type's genes with a defined cv, highest cv first (gene name breaking ties)."""

    genes: list[str]
    mean: np.ndarray
    stddev: np.ndarray
    cv: np.ndarray
    pct_expressing: np.ndarray

    def top(self, limit: int, min_mean: float | None, min_pct: float | None) -> list[dict[str, Any]]:
        """The first `limit` genes passing the thresholds, as response items."""
        keep = np.ones(len(self.genes), dtype=bool)
        if min_mean is not None:
            keep &= self.mean >= min_mean
        if min_pct is not None:
            keep &= self.pct_expressing >= min_pct
        chosen = np.flatnonzero(keep)[:limit]
        return [
            {
                "gene": self.genes[i],
                "mean_expression": float(self.mean[i]),
                "stddev": float(self.stddev[i]),
                "cv": float(self.cv[i]),
                "pct_expressing": float(self.pct_expressing[i]),
            }
            for i in chosen
        ]


def rank_variability(pool: ClientPool, dataset: str, cell_type: str) -> RankedVariability:
    """Every gene of the cell type whose cv is defined, highest cv first (ORDER BY cv DESC, gene)."""
    rows = pool.fetch(
        "SELECT gene, mean, stddev, cv, pct_expressing FROM marts.gene_stats "
        "WHERE dataset = {dataset:String} AND cell_type = {cell_type:String} AND cv IS NOT NULL "
        "ORDER BY cv DESC, gene",
        {"dataset": dataset, "cell_type": cell_type},
    )
    return RankedVariability(
        genes=[r["gene"] for r in rows],
        **{
            name: np.array([r[name] for r in rows], dtype=float)
            for name in ("mean", "stddev", "cv", "pct_expressing")
        },
    )


SELECTED_MOMENTS_SQL = """
SELECT gene, count() AS k, avg(lognorm) AS mean_stored, varPopStable(lognorm) * k AS m2_stored
FROM marts.expression
WHERE dataset = {{dataset:String}} AND {rows}
GROUP BY gene
"""


def rank_selected_variability(
    pool: ClientPool, dataset: str, selection: CellSelection, n: int
) -> RankedVariability:
    """`rank_variability` over any selection of n ≥ 2 cells (a cell type and a `where`), zeros included."""
    rows, params = selection.row_filter("sel")
    found = pool.fetch(SELECTED_MOMENTS_SQL.format(rows=rows), {"dataset": dataset, **params})
    k = np.array([r["k"] for r in found], dtype=float)
    mean, variance = with_zeros(
        n, k, np.array([r["mean_stored"] for r in found]), np.array([r["m2_stored"] for r in found])
    )
    stddev = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean != 0, stddev / mean, np.nan)
    genes = np.array([r["gene"] for r in found], dtype=object)
    order = score_order(genes, cv)
    order = order[~np.isnan(cv[order])]
    return RankedVariability(
        genes=genes[order].tolist(),
        mean=mean[order],
        stddev=stddev[order],
        cv=cv[order],
        pct_expressing=(k / n)[order],
    )
