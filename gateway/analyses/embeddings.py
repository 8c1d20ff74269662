"""The embeddings of a dataset (marts.embeddings): names, how many cells each places, their x and y ranges.

Read once per load of the dataset (the catalog's memo); the embedding view and a `where` polygon term resolve
an embedding's name here, so a typo is a 400 with suggestions rather than an empty answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.catalog import DatasetCatalog
from gateway.clients import ClientPool
from gateway.errors import BadRequest, close_matches

EMBEDDINGS_SQL = """
SELECT embedding, count() AS n_cells, min(x) AS x_min, max(x) AS x_max, min(y) AS y_min, max(y) AS y_max
FROM marts.embeddings
WHERE dataset = {dataset:String}
GROUP BY embedding
ORDER BY embedding
"""


@dataclass(frozen=True)
class EmbeddingInfo:
    """One embedding of a dataset: the cells it places and the box they lie in."""

    name: str
    n_cells: int
    x_min: float
    x_max: float
    y_min: float
    y_max: float


def dataset_embeddings(pool: ClientPool, catalog: DatasetCatalog) -> dict[str, EmbeddingInfo]:
    """name → embedding, by name; once per load of the dataset."""

    def load() -> dict[str, EmbeddingInfo]:
        rows = pool.fetch(EMBEDDINGS_SQL, {"dataset": catalog.name})
        return {row["embedding"]: EmbeddingInfo(**{"name": row.pop("embedding"), **row}) for row in rows}

    return catalog.memo(("embeddings",), load)


def embedding_of(
    pool: ClientPool, catalog: DatasetCatalog, name: str, *, field_name: str = "embedding"
) -> EmbeddingInfo:
    """The dataset's embedding called `name`; a 400 naming the field (with close names) otherwise."""
    known = dataset_embeddings(pool, catalog)
    if name in known:
        return known[name]
    offered = ", ".join(known) if known else "none (the study shipped no coordinates)"
    raise BadRequest(
        f"{field_name}: unknown embedding {name!r} in dataset {catalog.name!r}; its embeddings: {offered}",
        field=field_name,
        value=name,
        suggestions=close_matches(name, known),
    )
