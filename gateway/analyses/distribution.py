"""One gene's per-cell values across cell types as histograms binned in ClickHouse (violin/histogram data).

Every chosen cell counts: the cells where the gene is not detected (value exactly 0) are one separate bin,
`n_zero`, counted from the group sizes; the stored (non-zero) values fall into `bins` equal-width bins
shared by every cell type, over the range of the stored values in the whole selection. The edges are
numpy's (`np.histogram_bin_edges` of that range), sent to ClickHouse as a bound array, and a value's bin is
the number of lower edges at or below it, so a value exactly on an edge falls where numpy.histogram puts it
(bins closed on the left, the last one on both sides). Only the gene's stored rows are read, from
marts.expression_by_gene by gene_idx.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway.analyses.cells import CellSelection
from gateway.catalog import DatasetCatalog
from gateway.clients import SMALL_READ, ClientPool

ROWS = "dataset = {{dataset:String}} AND gene_idx = {{gene_idx:UInt32}} AND {rows}"

SUMMARY_SQL = (
    "SELECT cell_type, count() AS k, sum(lognorm) AS total, min(lognorm) AS low, max(lognorm) AS high "
    "FROM marts.expression_by_gene WHERE " + ROWS + " GROUP BY cell_type"
)

# A value's bin: how many lower edges are at or below it, less one (numpy.histogram's rule on these edges).
BINS_SQL = (
    "SELECT cell_type, "
    "toInt64(arrayCount(edge -> edge <= lognorm, {{lower_edges:Array(Float64)}})) - 1 AS bin, "
    "count() AS n FROM marts.expression_by_gene WHERE " + ROWS + " GROUP BY cell_type, bin"
)

SIZES_SQL = """
SELECT cell_type, count() AS n FROM marts.cells WHERE dataset = {{dataset:String}} AND {predicate}
GROUP BY cell_type
"""


def group_sizes(pool: ClientPool, catalog: DatasetCatalog, selection: CellSelection) -> dict[str, int]:
    """Cells per cell type in the selection (the catalog knows them without a `where`)."""
    if not selection.has_where:
        chosen = selection.cell_types or tuple(catalog.cell_types)
        return {c: catalog.cell_types[c] for c in chosen}
    predicate, params = selection.predicate("sel")
    rows = pool.fetch(SIZES_SQL.format(predicate=predicate), {"dataset": catalog.name, **params})
    return {row["cell_type"]: int(row["n"]) for row in rows}


def edges_of(low: float, high: float, bins: int) -> np.ndarray:
    """numpy.histogram's edges for values ranging over [low, high]."""
    return np.histogram_bin_edges(np.array([low, high], dtype=float), bins=bins)


def distribution(
    pool: ClientPool, catalog: DatasetCatalog, gene: str, selection: CellSelection, *, bins: int
) -> dict[str, Any]:
    """Per cell type of the selection (most cells first, then by name): n_cells, n_zero, n_expressing,
    mean (zeros included), mean over the expressing cells, the histogram of its stored values (shared
    edges)."""
    sizes = group_sizes(pool, catalog, selection)
    rows, params = selection.row_filter("sel")
    params = {"dataset": catalog.name, "gene_idx": catalog.gene_index[gene], **params}
    summary = {
        row["cell_type"]: row
        for row in pool.fetch(SUMMARY_SQL.format(rows=rows), params, settings=SMALL_READ)
    }
    counts: dict[str, list[int]] = {c: [0] * bins for c in sizes}
    if summary:
        low = min(row["low"] for row in summary.values())
        high = max(row["high"] for row in summary.values())
        edges = edges_of(low, high, bins)
        binned = pool.fetch(
            BINS_SQL.format(rows=rows), {**params, "lower_edges": edges[:-1].tolist()}, settings=SMALL_READ
        )
        for row in binned:
            counts[row["cell_type"]][int(row["bin"])] = int(row["n"])
    else:
        edges = np.array([], dtype=float)
    groups = []
    for cell_type in sorted(sizes, key=lambda c: (-sizes[c], c)):
        n = sizes[cell_type]
        found = summary.get(cell_type)
        k = int(found["k"]) if found else 0
        groups.append(
            {
                "cell_type": cell_type,
                "n_cells": n,
                "n_zero": n - k,
                "n_expressing": k,
                "mean": (found["total"] / n) if found else 0.0,
                "mean_expressing": (found["total"] / k) if found else None,
                "counts": counts[cell_type] if edges.size else [],
            }
        )
    return {"edges": edges.tolist(), "groups": groups}
