"""The genes most correlated with one gene within the chosen cell types, exact, in one query.

The gene's stored rows (cell → x) are joined to every stored row of the selection, giving Σxy per other
gene; Σy and Σy² come from marts.gene_stats. Zeros enter through n, so the correlation is over every cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway.analyses.cells import cell_filter
from gateway.analyses.stats import RELATIVE_VARIANCE_FLOOR, centred_ss, pearson_p_values
from gateway.clients import ClientPool


def _sql(cell_types: list[str]) -> str:
    cells = cell_filter(cell_types)
    return f"""
WITH
target AS (
    SELECT cell, lognorm AS x
    FROM marts.expression
    WHERE dataset = {{dataset:String}} AND gene = {{gene:String}} AND lognorm != 0 AND {cells}
),
cross_sums AS (
    SELECT e.gene AS gene, sum(target.x * e.lognorm) AS sxy, count() AS n_both
    FROM marts.expression AS e
    INNER JOIN target ON e.cell = target.cell
    WHERE e.dataset = {{dataset:String}} AND {cell_filter(cell_types, "e.cell_type")}
    GROUP BY e.gene
),
moments AS (
    SELECT gene, sum(sum) AS sy, sum(sum_sq) AS syy, sum(n_expressing) AS n_expressing
    FROM marts.gene_stats
    WHERE dataset = {{dataset:String}} AND {cells}
    GROUP BY gene
),
scored AS (
    SELECT moments.gene AS gene, moments.n_expressing AS n_expressing,
           coalesce(cross_sums.sxy, 0) - {{sx:Float64}} * moments.sy / {{n:Float64}} AS cov,
           moments.syy - moments.sy * moments.sy / {{n:Float64}} AS vy,
           moments.syy AS syy
    FROM moments LEFT JOIN cross_sums ON moments.gene = cross_sums.gene
    WHERE moments.gene != {{gene:String}}
)
SELECT gene, n_expressing, greatest(-1.0, least(1.0, cov / sqrt({{vx:Float64}} * vy))) AS r
FROM scored
WHERE vy > {RELATIVE_VARIANCE_FLOOR!r} * abs(syy)
ORDER BY r DESC, gene
LIMIT {{limit:UInt32}}
"""


def target_moments(pool: ClientPool, dataset: str, gene: str, cell_types: list[str]) -> tuple[float, float]:
    """Σx and Σx² of `gene` over the selection, from marts.gene_stats."""
    rows = pool.fetch(
        "SELECT sum(sum) AS sx, sum(sum_sq) AS sxx FROM marts.gene_stats "
        f"WHERE dataset = {{dataset:String}} AND gene = {{gene:String}} AND {cell_filter(cell_types)}",
        {"dataset": dataset, "gene": gene, "cell_types": cell_types},
    )
    return (rows[0]["sx"] or 0.0, rows[0]["sxx"] or 0.0) if rows else (0.0, 0.0)


def coexpressed(
    pool: ClientPool, *, dataset: str, gene: str, cell_types: list[str], n: int, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Top `limit` genes by Pearson r with `gene` (itself and constant genes excluded), and a note."""
    sx, sxx = target_moments(pool, dataset, gene, cell_types)
    vx = centred_ss(n, sx, sxx)
    if n < 3 or vx == 0.0:
        reason = f"{gene} is constant (zero variance)" if n >= 3 else f"only {n} cell(s) are selected"
        return [], f"no correlations: {reason} over these cells"
    params = {
        "dataset": dataset,
        "gene": gene,
        "cell_types": cell_types,
        "n": float(n),
        "sx": sx,
        "vx": vx,
        "limit": limit,
    }
    rows = pool.fetch(_sql(cell_types), params)
    p_values = pearson_p_values(np.array([row["r"] for row in rows], dtype=float), n)
    results = [
        {
            "gene": row["gene"],
            "pearson_correlation": row["r"],
            "p_value": float(p),
            "n_expressing": row["n_expressing"],
        }
        for row, p in zip(rows, p_values, strict=True)
    ]
    return results, None
