"""Dot-plot data — genes × cell types from marts.gene_stats — and the orders a dot plot is read in.

The numbers come from the mart unchanged; only the order of the axes is decided here: cell types (and,
on request, genes) are clustered the way CELLxGENE Gene Expression's "hierarchical" sort does it, so cell
types with similar profiles over the chosen genes sit next to each other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster import hierarchy

from gateway.analyses.cells import CellSelection
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


SELECTED_DOT_SQL = """
WITH
chosen AS (
    SELECT cell, cell_type, {compare} AS compare_value
    FROM marts.cells WHERE dataset = {{dataset:String}} AND {cells}
),
sizes AS (
    SELECT cell_type, compare_value, count() AS n_cells FROM chosen GROUP BY cell_type, compare_value
),
stored AS (
    SELECT e.gene AS gene, chosen.cell_type AS cell_type, chosen.compare_value AS compare_value,
           count() AS n_expressing, sum(e.lognorm) AS total
    FROM marts.expression AS e INNER JOIN chosen ON e.cell = chosen.cell
    WHERE e.dataset = {{dataset:String}} AND e.gene IN {{genes:Array(String)}}
    GROUP BY gene, cell_type, compare_value
),
grid AS (
    SELECT chosen_genes.gene AS gene, sizes.cell_type AS cell_type, sizes.compare_value AS compare_value,
           sizes.n_cells AS n_cells
    FROM sizes CROSS JOIN (SELECT arrayJoin({{genes:Array(String)}}) AS gene) AS chosen_genes
)
SELECT grid.gene AS gene, grid.cell_type AS cell_type, grid.compare_value AS compare_value,
       grid.n_cells AS n_cells, toUInt64(stored.n_expressing) AS n_expressing,
       stored.total / grid.n_cells AS mean, n_expressing / grid.n_cells AS pct_expressing,
       if(n_expressing > 0, stored.total / n_expressing, NULL) AS mean_expressing
FROM grid LEFT JOIN stored
    ON grid.gene = stored.gene AND grid.cell_type = stored.cell_type
    AND grid.compare_value = stored.compare_value
SETTINGS join_use_nulls = 0
"""


def selected_dot_rows(
    pool: ClientPool, dataset: str, genes: list[str], selection: CellSelection, compare_by: str | None
) -> list[dict[str, Any]]:
    """`dot_rows` over any selection (a `where`), and per value of a `compare_by` group column too (each row
    with its `compare_value`; cells without a value form the group '') — computed from the stored rows."""
    cells, params = selection.predicate("sel")
    compare, compare_params = "''", {}
    if compare_by in ("cell_type", "sample"):
        compare = compare_by
    elif compare_by is not None:
        compare, compare_params = "group_attributes[{compare_key:String}]", {"compare_key": compare_by}
    sql = SELECTED_DOT_SQL.format(compare=compare, cells=cells)
    rows = pool.fetch(sql, {"dataset": dataset, "genes": genes, **params, **compare_params})
    for row in rows:
        row["compare_value"] = row["compare_value"] if compare_by is not None else None
    return sorted(rows, key=lambda r: (r["gene"], r["cell_type"], r["compare_value"] or ""))


def collapsed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows per gene × cell type from rows split by a compare column (the sizes add, means weigh by them)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["gene"], row["cell_type"])
        into = merged.setdefault(key, {"gene": key[0], "cell_type": key[1], "n_cells": 0, "total": 0.0})
        into["n_cells"] += row["n_cells"]
        into["total"] += row["mean"] * row["n_cells"]
    return [{**row, "mean": row["total"] / row["n_cells"]} for row in merged.values()]


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
