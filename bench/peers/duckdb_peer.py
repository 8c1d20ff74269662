"""DuckDB over the same tidy data exported to Parquet (marts.expression, marts.cells), answering with the
same SQL logic as the marts: sums over the stored non-zeros, the group's size from the cells table, so the
zeros count without being stored."""

from __future__ import annotations

import math
import sys
from typing import Any

from bench.measure import stopwatch
from bench.peers.protocol import PeerContext, peer_main, timed_answers

CORRELATION_SQL = """
WITH chosen AS (SELECT count(*)::DOUBLE AS n FROM cells WHERE list_contains($types, cell_type)),
pairs AS (
    SELECT cell,
           sum(CASE WHEN gene = $a THEN lognorm ELSE 0 END) AS x,
           sum(CASE WHEN gene = $b THEN lognorm ELSE 0 END) AS y
    FROM expression
    WHERE gene IN ($a, $b) AND list_contains($types, cell_type)
    GROUP BY cell
),
sums AS (
    SELECT coalesce(sum(x), 0) AS sx, coalesce(sum(y), 0) AS sy, coalesce(sum(x * x), 0) AS sxx,
           coalesce(sum(y * y), 0) AS syy, coalesce(sum(x * y), 0) AS sxy
    FROM pairs
)
SELECT n, sxy - sx * sy / n AS cov, sxx - sx * sx / n AS vx, syy - sy * sy / n AS vy
FROM sums, chosen
"""

VARIABILITY_SQL = """
WITH chosen AS (SELECT count(*)::DOUBLE AS n FROM cells WHERE cell_type = $type),
moments AS (
    SELECT gene, sum(lognorm) AS s1, sum(lognorm * lognorm) AS s2
    FROM expression
    WHERE cell_type = $type
    GROUP BY gene
)
SELECT gene, sqrt(greatest(s2 - s1 * s1 / n, 0) / (n - 1)) / (s1 / n) AS cv
FROM moments, chosen
WHERE n > 1 AND s1 > 0
ORDER BY cv DESC, gene
LIMIT $limit
"""


def run(context: PeerContext) -> dict[str, Any]:
    import duckdb

    if context.expression_parquet is None or context.cells_parquet is None:
        raise ValueError("the DuckDB peer needs the exported Parquet files")
    connection = duckdb.connect()
    with stopwatch() as attach:
        connection.execute(
            f"CREATE VIEW expression AS SELECT * FROM read_parquet('{context.expression_parquet}')"
        )
        connection.execute(f"CREATE VIEW cells AS SELECT * FROM read_parquet('{context.cells_parquet}')")

    def correlation(request: dict[str, Any]) -> float | None:
        params = {"a": request["gene_a"], "b": request["gene_b"], "types": request["cell_types"]}
        n, cov, vx, vy = connection.execute(CORRELATION_SQL, params).fetchone()
        if not n or n < 2 or vx <= 0 or vy <= 0:
            return None
        return cov / math.sqrt(vx * vy)

    def variability(request: dict[str, Any]) -> list[list[Any]]:
        params = {"type": request["cell_type"], "limit": request["limit"]}
        return [[gene, cv] for gene, cv in connection.execute(VARIABILITY_SQL, params).fetchall()]

    try:
        return {
            "attach_s": round(attach.seconds, 3),
            "parquet_mb": round(
                (context.expression_parquet.stat().st_size + context.cells_parquet.stat().st_size) / 2**20, 1
            ),
            "correlation": timed_answers(context.requests("correlation"), correlation),
            "variability": timed_answers(context.requests("variability"), variability),
        }
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(peer_main(run))
