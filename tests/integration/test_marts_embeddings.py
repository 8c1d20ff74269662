"""marts.embeddings against the study files: every cell's coordinates by its matrix column, for the Single
Cell Portal cluster file and the same UMAP in an .h5ad's obsm; the demo's synthetic UMAP covers every cell."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.hdf5_inputs import pbmc_umap

pytestmark = pytest.mark.studies("pbmc", "pbmc_h5ad", "demo")


def _mart(client, dataset: str) -> dict[str, np.ndarray]:
    rows = client.query(
        "SELECT embedding, cell, x, y FROM marts.embeddings WHERE dataset = {d:String} "
        "ORDER BY embedding, cell",
        parameters={"d": dataset},
    ).result_rows
    found: dict[str, list] = {}
    for embedding, cell, x, y in rows:
        found.setdefault(embedding, []).append((cell, x, y))
    return {name: np.array(values) for name, values in found.items()}


@pytest.mark.parametrize(("dataset", "embedding"), [("pbmc", "pbmc.umap"), ("pbmc_h5ad", "umap")])
def test_every_cell_has_its_coordinates_by_matrix_column(
    built_store, engine_client, dataset, embedding
) -> None:
    mart = _mart(engine_client, dataset)
    assert list(mart) == [embedding]
    rows = mart[embedding]
    expected = pbmc_umap()  # in barcode order: row i is matrix column i
    np.testing.assert_array_equal(rows[:, 0], np.arange(len(expected)))
    np.testing.assert_array_equal(rows[:, 1:], expected)


def test_the_demo_has_a_umap_of_every_cell(built_store, engine_client) -> None:
    mart = _mart(engine_client, "demo")
    [n_cells] = engine_client.query("SELECT n_cells FROM marts.datasets WHERE dataset = 'demo'").result_rows[
        0
    ]
    assert list(mart) == ["umap"]
    assert len(mart["umap"]) == n_cells and np.isfinite(mart["umap"]).all()
