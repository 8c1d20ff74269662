"""GET /genes/{gene}/distribution against numpy.histogram on the same lognorm values: the edges, every bin per
cell type, the zero bin exact and apart, with and without a `where`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.helpers.oracle import DenseStudy, stored_lognorm
from tests.helpers.studies import ARM_COLUMN, read_counts

pytestmark = pytest.mark.studies("pbmc", "counts")


def assert_histograms(
    answer: dict, values: np.ndarray, cell_types: np.ndarray, chosen: np.ndarray, bins: int
):
    """`values`: the gene's lognorm per cell; `chosen`: the selected cells."""
    stored = values[chosen & (values != 0)]
    if stored.size:
        _, edges = np.histogram(stored, bins=bins)
        assert answer["edges"] == pytest.approx(edges, rel=1e-12, abs=0)
    else:
        assert answer["edges"] == []
    expected_types = sorted(set(cell_types[chosen]), key=lambda c: (-(chosen & (cell_types == c)).sum(), c))
    assert [g["cell_type"] for g in answer["groups"]] == expected_types
    for group in answer["groups"]:
        cells = values[chosen & (cell_types == group["cell_type"])]
        assert group["n_cells"] == cells.size
        assert group["n_zero"] == int((cells == 0).sum())
        assert group["n_expressing"] == int((cells != 0).sum())
        assert group["mean"] == pytest.approx(cells.mean(), rel=1e-9, abs=1e-15)
        if stored.size:
            assert group["counts"] == np.histogram(cells[cells != 0], bins=edges)[0].tolist()
            assert sum(group["counts"]) + group["n_zero"] == group["n_cells"]
        else:
            assert group["counts"] == []


@pytest.mark.parametrize(
    ("gene", "cell_types", "bins"), [("CST3", [], 40), ("CD3D", ["CD19+ B", "Dendritic"], 7)]
)
def test_pbmc_histograms_are_numpy(api, pbmc_dense, gene, cell_types, bins) -> None:
    response = api.get(
        f"/genes/{gene}/distribution",
        query_string={"dataset": "pbmc", "cell_types": cell_types, "bins": bins},
    )
    assert response.status_code == 200, response.json
    assert response.json["gene"] == gene and len(response.json["edges"]) == bins + 1
    chosen = pbmc_dense.cells_of(cell_types)
    assert_histograms(response.json, pbmc_dense.gene_row(gene), pbmc_dense.cell_types, chosen, bins)


@pytest.fixture(scope="module")
def counts(counts_study_dir) -> DenseStudy:
    return read_counts(counts_study_dir)


@pytest.mark.parametrize("gene", ["GENE7", "GENE5", "GENE6"])
def test_counts_with_where_and_the_zero_bin(api, counts, gene) -> None:
    """GENE5 is zero in every B cell, GENE6 everywhere (no edges, every cell in the zero bin)."""
    where = {ARM_COLUMN: ["drug A+B", "placebo (saline)"], "pct_mito": {"min": 1.0}}
    query = {"dataset": "counts", "where": json.dumps(where), "bins": 12}
    response = api.get(f"/genes/{gene}/distribution", query_string=query)
    assert response.status_code == 200, response.json
    chosen = counts.where(where)
    lognorm = stored_lognorm(counts)[counts.genes.index(gene)]
    assert_histograms(response.json, lognorm, counts.cell_types, chosen, 12)
    groups = {g["cell_type"]: g for g in response.json["groups"]}
    if gene == "GENE5":
        assert groups["B cell"]["n_zero"] == groups["B cell"]["n_cells"] > 0
        assert sum(groups["B cell"]["counts"]) == 0


def test_errors_name_the_field(api) -> None:
    assert api.get("/genes/NOPE/distribution", query_string={"dataset": "pbmc"}).status_code == 404
    bad = api.get("/genes/CST3/distribution", query_string={"dataset": "pbmc", "bins": 0})
    assert bad.status_code == 400 and bad.json["field"] == "bins"
    bad = api.get("/genes/CST3/distribution", query_string={"dataset": "pbmc", "where": "{"})
    assert bad.status_code == 400 and bad.json["field"] == "where"
    bad = api.get("/genes/CST3/distribution", query_string={"dataset": "pbmc", "cell_types": ["nope"]})
    assert bad.status_code == 404 and bad.json["field"] == "cell_types"
