"""The seed's own SQL, run on the same engine and the same data (`marts.expression`, `lognorm`).

The seed computed correlation with `corr(x, y)` over the inner join of the two genes' stored rows — only the
cells where both are non-zero — and variability as `stddevPop / avg` over a cell type's stored rows: zeros
ignored both times. Reproduced here so the size of that error is measured, not asserted.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from bench.peers.protocol import PeerContext, peer_main, timed_answers
from genostream.engine import get_client

SEED_CORRELATION_SQL = """
    SELECT corr(a.value, b.value)
    FROM (
        SELECT cell, lognorm AS value FROM marts.expression
        WHERE dataset = {dataset:String} AND gene = {gene_a:String}
            AND cell_type IN {cell_types:Array(String)}
    ) AS a
    INNER JOIN (
        SELECT cell, lognorm AS value FROM marts.expression
        WHERE dataset = {dataset:String} AND gene = {gene_b:String}
            AND cell_type IN {cell_types:Array(String)}
    ) AS b ON a.cell = b.cell
"""

SEED_VARIABILITY_SQL = """
    SELECT gene, stddevPop(lognorm) / avg(lognorm) AS cv
    FROM marts.expression
    WHERE dataset = {dataset:String} AND cell_type = {cell_type:String}
    GROUP BY gene
    ORDER BY cv DESC, gene
    LIMIT {limit:UInt32}
"""


def _finite(value: Any) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def run(context: PeerContext) -> dict[str, Any]:
    client = get_client()

    def correlation(request: dict[str, Any]) -> float | None:
        parameters = {"dataset": context.dataset, **request}
        return _finite(client.query(SEED_CORRELATION_SQL, parameters=parameters).first_row[0])

    def variability(request: dict[str, Any]) -> list[list[Any]]:
        parameters = {"dataset": context.dataset, **request}
        rows = client.query(SEED_VARIABILITY_SQL, parameters=parameters).result_rows
        return [[gene, _finite(cv)] for gene, cv in rows if _finite(cv) is not None]

    try:
        return {
            "correlation": timed_answers(context.requests("correlation"), correlation),
            "variability": timed_answers(context.requests("variability"), variability),
        }
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(peer_main(run))
