"""Cells on an embedding, coloured by a gene (lognorm, zeros included) or a metadata column.

Few cells come back as points, one per cell. Many come back as a grid computed in ClickHouse: the
embedding's x and y ranges cut into `bins` equal bins each (the edges are returned, and each cell falls in
the bin numpy's `histogram2d` puts it in on those edges: [e_i, e_i+1), the last bin closed), and each
non-empty bin carries its cell count and its colour — a gene's mean lognorm over all the bin's cells (zeros
included) and how many express it, a numeric column's mean over the cells that have a value, or a group
column's most frequent value.
So a million cells draw as fast as ten thousand. Every value is a bound parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway.analyses.cells import DESIGNATED, CellSelection, MetadataColumn
from gateway.analyses.embeddings import EmbeddingInfo
from gateway.catalog import DatasetCatalog
from gateway.clients import SMALL_READ, ClientPool


def _colour(kind: str, column: MetadataColumn | None) -> tuple[str, dict[str, Any]]:
    """(the expression over `chosen`'s marts.cells columns giving each cell's colour value, its params)."""
    if kind == "gene":
        return "0", {}
    if column is None:
        return "''", {}
    if column.name in DESIGNATED:
        return column.name, {}
    key = {"colour_key": column.name}
    if column.kind == "numeric":
        return (
            "if(mapContains(numeric_attributes, {colour_key:String}), "
            "numeric_attributes[{colour_key:String}], nan)",
            key,
        )
    return "group_attributes[{colour_key:String}]", key


def _cells_cte(cells: str, colour: str, gene: bool) -> str:
    """`chosen` (the selection's cells, with barcode, cell type and colour), `placed` (those of them on the
    embedding, with x, y) and, for a gene, `stored` (its non-zero lognorm in those cells)."""
    stored = (
        """,
stored AS (
    SELECT cell, lognorm AS v FROM marts.expression_by_gene
    WHERE dataset = {dataset:String} AND gene_idx = {gene_idx:UInt32} AND cell IN (SELECT cell FROM placed)
)"""
        if gene
        else ""
    )
    return f"""
chosen AS (
    SELECT cell, barcode, cell_type, {colour} AS colour
    FROM marts.cells
    WHERE dataset = {{dataset:String}} AND {cells}
),
placed AS (
    SELECT cell, x, y FROM marts.embeddings
    WHERE dataset = {{dataset:String}} AND embedding = {{embedding:String}}
      AND cell IN (SELECT cell FROM chosen)
){stored}"""


def _joined(gene: bool) -> str:
    """placed ⨝ chosen (⟕ stored): one row per placed cell with its value (a gene's 0 where not stored)."""
    value = "coalesce(stored.v, 0)" if gene else "chosen.colour"
    join = "LEFT JOIN stored ON placed.cell = stored.cell" if gene else ""
    return f"""SELECT placed.cell AS cell, chosen.barcode AS barcode, chosen.cell_type AS cell_type,
           placed.x AS x, placed.y AS y, {value} AS value
    FROM placed INNER JOIN chosen ON placed.cell = chosen.cell {join}"""


def _bin(axis: str) -> str:
    """numpy's bin of `axis` on the bound edges: a first guess from the width, corrected by the edges."""
    edges = f"{{{axis}_edges:Array(Float64)}}"
    first = f"toInt64(floor(({axis} - {edges}[1]) / {{{axis}_step:Float64}}))"
    guess = f"least(greatest({first}, 0), {{bins:Int64}} - 1)"
    return (
        f"multiIf({axis} < {edges}[{guess} + 1], {guess} - 1, "
        f"{axis} >= {edges}[{guess} + 2] AND {guess} < {{bins:Int64}} - 1, {guess} + 1, {guess})"
    )


def _bins_sql(cte: str, gene: bool, kind: str) -> str:
    if kind == "group":
        return f"""
WITH {cte},
per_value AS (
    SELECT {_bin("x")} AS bin_x, {_bin("y")} AS bin_y, value, count() AS n
    FROM ({_joined(gene)})
    GROUP BY bin_x, bin_y, value
)
SELECT bin_x, bin_y, sum(n) AS n_cells, argMax(value, (n, value)) AS top_value, max(n) AS top_count
FROM per_value
GROUP BY bin_x, bin_y
ORDER BY bin_x, bin_y
"""
    colour = {
        "gene": ", avg(value) AS mean, countIf(value != 0) AS n_expressing",
        "numeric": ", avgIf(value, NOT isNaN(value)) AS mean",
    }.get(kind, "")
    return f"""
WITH {cte}
SELECT {_bin("x")} AS bin_x, {_bin("y")} AS bin_y, count() AS n_cells{colour}
FROM ({_joined(gene)})
GROUP BY bin_x, bin_y
ORDER BY bin_x, bin_y
"""


def edges(low: float, high: float, bins: int) -> list[float]:
    """`bins` equal bins over [low, high] (numpy.linspace), widened by ±0.5 when the range is one value."""
    if not high > low:
        low, high = low - 0.5, high + 0.5
    return [float(e) for e in np.linspace(low, high, bins + 1)]


def embedding_values(
    pool: ClientPool,
    catalog: DatasetCatalog,
    *,
    embedding: EmbeddingInfo,
    selection: CellSelection,
    gene: str | None,
    column: MetadataColumn | None,
    max_points: int,
    bins: int,
) -> dict[str, Any]:
    """Points (≤ max_points cells of the selection on the embedding) or a `bins` × `bins` grid."""
    kind = "gene" if gene is not None else (column.kind if column is not None else "none")
    colour, colour_params = _colour(kind, column)
    cells, cell_params = selection.predicate("sel")
    params: dict[str, Any] = {
        "dataset": catalog.name,
        "embedding": embedding.name,
        **colour_params,
        **cell_params,
    }
    if gene is not None:
        params["gene_idx"] = catalog.gene_index[gene]
    is_gene = gene is not None
    cte = _cells_cte(cells, colour, is_gene)
    everyone = not (selection.cell_types or selection.terms or selection.excluded_cell_types)
    if everyone:  # every cell the embedding places: counted once per load (embeddings.py)
        n_cells = embedding.n_cells
    else:
        [counted] = pool.fetch(
            f"WITH {cte}\nSELECT count() AS n_cells FROM ({_joined(False)})", params, settings=SMALL_READ
        )
        n_cells = int(counted["n_cells"])
    result: dict[str, Any] = {"colour_kind": kind, "n_cells": n_cells, "n_expressing": None}
    if n_cells <= max_points:
        rows = pool.fetch(f"WITH {cte}\n{_joined(is_gene)}\nORDER BY cell", params, settings=SMALL_READ)
        points: dict[str, Any] = {
            key: [row[key] for row in rows] for key in ("barcode", "cell_type", "x", "y")
        }
        values = [row["value"] for row in rows]
        points["value"] = [_number(v) for v in values] if kind in ("gene", "numeric") else None
        points["label"] = [str(v) for v in values] if kind == "group" else None
        if is_gene:
            result["n_expressing"] = sum(1 for v in values if v != 0)
        return {**result, "mode": "points", "points": points, "bins": None}
    x_edges = edges(embedding.x_min, embedding.x_max, bins)
    y_edges = edges(embedding.y_min, embedding.y_max, bins)
    grid = {
        **params,
        "bins": bins,
        "x_edges": x_edges,
        "y_edges": y_edges,
        "x_step": (x_edges[-1] - x_edges[0]) / bins,
        "y_step": (y_edges[-1] - y_edges[0]) / bins,
    }
    rows = pool.fetch(_bins_sql(cte, is_gene, kind), grid, settings=SMALL_READ)
    binned: dict[str, Any] = {
        "x_edges": x_edges,
        "y_edges": y_edges,
        "x_bin": [row["bin_x"] for row in rows],
        "y_bin": [row["bin_y"] for row in rows],
        "n_cells": [row["n_cells"] for row in rows],
        "mean": [_number(row["mean"]) for row in rows] if kind in ("gene", "numeric") else None,
        "n_expressing": [row["n_expressing"] for row in rows] if kind == "gene" else None,
        "top_value": [row["top_value"] for row in rows] if kind == "group" else None,
        "top_count": [row["top_count"] for row in rows] if kind == "group" else None,
    }
    if is_gene:
        result["n_expressing"] = int(sum(binned["n_expressing"]))
    return {**result, "mode": "bins", "points": None, "bins": binned}


def _number(value: Any) -> float | None:
    """A float for JSON: NaN (a numeric column without a value, a bin without one) is null."""
    number = float(value)
    return None if np.isnan(number) else number
