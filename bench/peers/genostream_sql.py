"""genostream's own SQL in-process (no HTTP, no JSON): the gateway's correlation code on a client pool, and
the variability question as an analyst asks `marts.gene_stats`. Puts genostream on the same footing as the
in-process peers and, next to the HTTP numbers, shows what the HTTP layer costs."""

from __future__ import annotations

import sys
from typing import Any

from bench.peers.protocol import PeerContext, peer_main, timed_answers

VARIABILITY_SQL = """
    SELECT gene, cv FROM marts.gene_stats
    WHERE dataset = {dataset:String} AND cell_type = {cell_type:String} AND cv IS NOT NULL
    ORDER BY cv DESC, gene
    LIMIT {limit:UInt32}
"""


def run(context: PeerContext) -> dict[str, Any]:
    from gateway.analyses.correlation import correlate
    from gateway.catalog import Catalog
    from gateway.clients import ClientPool
    from gateway.config import GatewayConfig

    config = GatewayConfig.from_env()
    pool = ClientPool(config)
    catalog = Catalog(pool, config.catalog_ttl_s)

    def correlation(request: dict[str, Any]) -> float | None:
        stats, _ = correlate(pool, catalog.dataset(context.dataset), method="pearson", by=None, **request)
        return stats.pearson_correlation

    def variability(request: dict[str, Any]) -> list[list[Any]]:
        rows = pool.fetch(VARIABILITY_SQL, {"dataset": context.dataset, **request})
        return [[row["gene"], row["cv"]] for row in rows]

    try:
        return {
            "correlation": timed_answers(context.requests("correlation"), correlation),
            "variability": timed_answers(context.requests("variability"), variability),
        }
    finally:
        pool.close()


if __name__ == "__main__":
    sys.exit(peer_main(run))
