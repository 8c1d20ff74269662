"""Two genes cell by cell, for a scatter plot: every cell of the selection, zeros included.

Few cells come back as points (one per cell). Many cells come back as a 2-D histogram computed in
ClickHouse, so a browser draws tens of thousands of cells as a few thousand bins: a value of exactly 0
has a bin of its own (index 0, centred on 0), so the cells where a gene is not detected stay visible.
Both read only the two genes' stored rows; cells with neither gene are counted from marts.cells.
"""

from __future__ import annotations

from typing import Any

from gateway.analyses.cells import cell_filter
from gateway.analyses.correlation import pair_parameters, per_cell_cte
from gateway.catalog import DatasetCatalog
from gateway.clients import SMALL_READ, ClientPool


def _points_sql(cells: str) -> str:
    return f"""
WITH
chosen AS (
    SELECT cell, barcode, cell_type FROM marts.cells WHERE dataset = {{dataset:String}} AND {cells}
),
{per_cell_cte(cells)}
SELECT chosen.barcode AS barcode, chosen.cell_type AS cell_type,
       coalesce(per_cell.x, 0) AS x, coalesce(per_cell.y, 0) AS y
FROM chosen LEFT JOIN per_cell ON chosen.cell = per_cell.cell
ORDER BY chosen.cell
"""


def _extent_sql(cells: str) -> str:
    return f"""
WITH {per_cell_cte(cells)}
SELECT least(0, min(x)) AS x_min, greatest(0, max(x)) AS x_max,
       least(0, min(y)) AS y_min, greatest(0, max(y)) AS y_max,
       countIf(x != 0) AS n_a, countIf(y != 0) AS n_b, countIf(x != 0 AND y != 0) AS n_both
FROM per_cell
"""


def _bin(value: str, step: str) -> str:
    """The bin of `value`: 0 only for exactly 0, else the nearest bin centre (never the zero bin)."""
    nearest = f"round({value} / {{{step}:Float64}})"
    return f"toInt32(if({value} = 0, 0, if(abs({nearest}) < 1, sign({value}), {nearest})))"


def _bins_sql(cells: str) -> str:
    return f"""
WITH {per_cell_cte(cells)}
SELECT {_bin("x", "x_step")} AS bin_x, {_bin("y", "y_step")} AS bin_y, count() AS n
FROM per_cell
GROUP BY bin_x, bin_y
ORDER BY bin_x, bin_y
"""


def _step(low: float, high: float, bins: int) -> float:
    return (high - low) / bins if high > low else 1.0


def pair_values(
    pool: ClientPool,
    catalog: DatasetCatalog,
    *,
    gene_a: str,
    gene_b: str,
    cell_types: list[str],
    max_points: int,
    bins: int,
) -> dict[str, Any]:
    """Points (n_cells ≤ max_points) or a `bins` × `bins` histogram, with the zero/non-zero counts."""
    params = pair_parameters(catalog, gene_a, gene_b, cell_types)
    n_cells = catalog.n_cells_of(cell_types)
    cells = cell_filter(cell_types)
    [extent] = pool.fetch(_extent_sql(cells), params, settings=SMALL_READ)
    counts = {
        "observation_count": n_cells,
        "n_expressing_a": extent["n_a"],
        "n_expressing_b": extent["n_b"],
        "n_expressing_both": extent["n_both"],
        "n_zero_both": n_cells - (extent["n_a"] + extent["n_b"] - extent["n_both"]),
    }
    if n_cells <= max_points:
        rows = pool.fetch(_points_sql(cells), params, settings=SMALL_READ)
        points = {key: [row[key] for row in rows] for key in ("barcode", "cell_type", "x", "y")}
        return {"mode": "points", **counts, "points": points, "bins": None}
    x_step = _step(extent["x_min"] or 0.0, extent["x_max"] or 0.0, bins)
    y_step = _step(extent["y_min"] or 0.0, extent["y_max"] or 0.0, bins)
    rows = pool.fetch(_bins_sql(cells), {**params, "x_step": x_step, "y_step": y_step}, settings=SMALL_READ)
    histogram = {(row["bin_x"], row["bin_y"]): row["n"] for row in rows}
    if counts["n_zero_both"]:
        histogram[(0, 0)] = histogram.get((0, 0), 0) + counts["n_zero_both"]
    ordered = sorted(histogram.items())
    return {
        "mode": "bins",
        **counts,
        "points": None,
        "bins": {
            "x_step": x_step,
            "y_step": y_step,
            "x_bin": [key[0] for key, _ in ordered],
            "y_bin": [key[1] for key, _ in ordered],
            "n_cells": [n for _, n in ordered],
        },
    }
