"""Genes of a dataset by symbol, for a search box (the catalog's gene names rank them).

Read live from marts.genes rather than the catalog's cached list: the answer carries each gene's
`n_cells_expressing`, which the catalog does not keep.
"""

from __future__ import annotations

from typing import Any

from gateway.clients import ClientPool

GENES_BY_NAME_SQL = """
SELECT gene, gene_id, n_cells_expressing
FROM marts.genes
WHERE dataset = {dataset:String} AND gene IN {genes:Array(String)}
"""


def genes_by_name(pool: ClientPool, dataset: str, genes: list[str]) -> dict[str, dict[str, Any]]:
    """Symbol → its row (gene, gene_id, n_cells_expressing) for the `genes` of `dataset`."""
    if not genes:
        return {}
    rows = pool.fetch(GENES_BY_NAME_SQL, {"dataset": dataset, "genes": genes})
    return {row["gene"]: row for row in rows}
