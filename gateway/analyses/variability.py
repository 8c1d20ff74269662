"""The most variable genes of a cell type: ranked by cv once per cell type and load, filtered per request.

Only the thresholds and the limit depend on a request; the cell type's genes with a defined cv, in cv order,
are read from marts.gene_stats once and kept with the dataset's catalog entry (replaced on a reload).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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
