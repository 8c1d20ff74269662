"""Genes of a dataset whose symbol starts with a prefix (case-insensitive), for a search box.

Read live from marts.genes rather than the catalog's cached list: the answer carries each gene's
`n_cells_expressing`, which the catalog does not keep.
"""

from __future__ import annotations

from typing import Any

from gateway.clients import ClientPool

GENES_BY_PREFIX_SQL = """
SELECT gene, gene_id, n_cells_expressing
FROM marts.genes
WHERE dataset = {dataset:String} AND startsWith(lowerUTF8(gene), lowerUTF8({prefix:String}))
ORDER BY gene
LIMIT {limit:UInt32}
"""


def genes_by_prefix(pool: ClientPool, dataset: str, prefix: str, *, limit: int) -> list[dict[str, Any]]:
    """At most `limit` genes of `dataset` (by symbol) whose symbol starts with `prefix`."""
    return pool.fetch(GENES_BY_PREFIX_SQL, {"dataset": dataset, "prefix": prefix, "limit": limit})
