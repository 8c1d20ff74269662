"""Dot-plot data — genes × cell types from marts.gene_stats — and the orders a dot plot is read in.

The numbers come from the mart unchanged; only the order of the axes is decided here: cell types (and,
on request, genes) are clustered the way CELLxGENE Gene Expression's "hierarchical" sort does it, so cell
types with similar profiles over the chosen genes sit next to each other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster import hierarchy

from gateway.clients import ClientPool

DOT_SQL = """
SELECT gene, cell_type, n_cells, n_expressing, mean, pct_expressing,
       if(n_expressing > 0, mean_expressing, NULL) AS mean_expressing
FROM marts.gene_stats
WHERE dataset = {dataset:String} AND gene IN {genes:Array(String)}
ORDER BY gene, cell_type
"""


def dot_rows(pool: ClientPool, dataset: str, genes: list[str]) -> list[dict[str, Any]]:
    """One row per gene × cell type: n_cells, n_expressing, mean (zeros included), pct_expressing and
    mean over the expressing cells (None when no cell expresses the gene)."""
    return pool.fetch(DOT_SQL, {"dataset": dataset, "genes": genes})


def _leaf_order(profiles: np.ndarray) -> list[int]:
    """Rows of `profiles` in the leaf order of an average-linkage tree (optimal leaf ordering)."""
    if len(profiles) < 3:
        return list(range(len(profiles)))
    tree = hierarchy.linkage(profiles, method="average", metric="euclidean")
    return [int(i) for i in hierarchy.leaves_list(hierarchy.optimal_leaf_ordering(tree, profiles))]


def _scaled(means: np.ndarray) -> np.ndarray:
    """Each gene (column) scaled to 0–1 over the cell types, so every gene weighs the same."""
    low = means.min(axis=0, keepdims=True)
    span = means.max(axis=0, keepdims=True) - low
    return np.divide(means - low, span, out=np.zeros_like(means), where=span > 0)


def axis_orders(
    rows: list[dict[str, Any]], genes: list[str], *, cell_order: str, gene_order: str
) -> tuple[list[str], list[str]]:
    """(genes, cell types) in display order.

    cell_order: `clustered` (by the scaled mean profile over the genes; with one gene, highest mean
    first), `name`, or `size` (most cells first). gene_order: `given` or `clustered` (by profile over
    the cell types).
    """
    sizes: dict[str, int] = {}
    for row in rows:
        sizes[row["cell_type"]] = row["n_cells"]
    cell_types = sorted(sizes)
    means = np.zeros((len(cell_types), len(genes)))
    where = {name: i for i, name in enumerate(cell_types)}
    column = {gene: j for j, gene in enumerate(genes)}
    for row in rows:
        means[where[row["cell_type"]], column[row["gene"]]] = row["mean"]
    if cell_order == "size":
        cell_types = sorted(cell_types, key=lambda c: (-sizes[c], c))
    elif cell_order == "clustered":
        if len(genes) == 1:
            order = sorted(range(len(cell_types)), key=lambda i: (-means[i, 0], cell_types[i]))
        else:
            order = _leaf_order(_scaled(means))
        cell_types = [cell_types[i] for i in order]
    ordered_genes = list(genes)
    if gene_order == "clustered" and len(genes) > 2:
        ordered_genes = [genes[j] for j in _leaf_order(_scaled(means).T)]
    return ordered_genes, cell_types
