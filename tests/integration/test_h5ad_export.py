"""POST /expression-matrix as AnnData: an .h5ad that anndata reads back with the loaded values exactly."""

from __future__ import annotations

import io

import anndata
import numpy as np
import pytest

from tests.helpers.studies import STUDY_READERS

pytestmark = pytest.mark.studies("pbmc", "counts")


H5AD = {"Accept": "application/x-hdf5"}


def _read(response) -> anndata.AnnData:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/x-hdf5"
    assert int(response.headers["Content-Length"]) == len(response.data)
    return anndata.read_h5ad(io.BytesIO(response.data))


@pytest.mark.parametrize("dataset", ["pbmc", "counts"])  # real-valued (already log-normalised), and counts
def test_round_trip_is_exact(api, dataset, counts_study_dir) -> None:
    dense = STUDY_READERS[dataset](counts_study_dir)
    genes = dense.genes[:40:3]
    body = {"gene_names": genes, "dataset": dataset, "layer": "value"}
    adata = _read(api.post("/expression-matrix", json=body, headers=H5AD))
    assert list(adata.obs_names) == dense.barcodes
    assert list(adata.var_names) == genes
    expected = np.stack([dense.gene_row(g) for g in genes], axis=1)
    assert adata.X.format == "csr"
    assert np.array_equal(adata.X.toarray(), expected)
    assert adata.X.nnz == np.count_nonzero(expected)
    assert list(adata.obs["cell_type"].astype(object)) == list(dense.cell_types)
    assert adata.obs["cell_type"].dtype == "category"
    assert list(adata.obs["sample"].astype(object)) == list(dense.samples)
    assert "gene_id" in adata.var
    assert adata.uns["dataset"] == dataset
    assert adata.uns["layer"] == "value"
    assert adata.uns["load"]


def test_chosen_cell_types_metadata_and_lognorm(api, pbmc_dense, counts_study_dir) -> None:
    dense = STUDY_READERS["counts"](counts_study_dir)
    chosen = sorted(set(dense.cell_types))[:2]
    body = {"gene_names": dense.genes[:5], "dataset": "counts", "cell_types": chosen, "layer": "lognorm"}
    adata = _read(api.post("/expression-matrix", json=body, headers=H5AD))
    keep = dense.cells_of(chosen)
    assert list(adata.obs_names) == [b for b, k in zip(dense.barcodes, keep, strict=True) if k]
    expected = dense.lognorm()[: len(body["gene_names"])][:, keep].T
    assert np.allclose(adata.X.toarray(), expected, rtol=1e-12, atol=1e-12)
    assert adata.uns["layer"] == "lognorm"
    pbmc = _read(
        api.post("/expression-matrix", json={"gene_names": ["CD74"], "dataset": "pbmc"}, headers=H5AD)
    )
    assert pbmc.obs["phase"].dtype == "category"  # a group column of the metadata
    assert pbmc.obs["n_counts"].dtype == np.float64  # a numeric one
    assert pbmc.X.shape == (len(pbmc_dense.barcodes), 1)


def test_other_formats_are_unchanged(api) -> None:
    response = api.post("/expression-matrix", json={"gene_names": ["CD74"], "dataset": "pbmc"})
    assert response.mimetype == "application/json"
