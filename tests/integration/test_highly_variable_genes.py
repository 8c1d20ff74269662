"""POST /highly-variable-genes against scanpy's own `sc.pp.highly_variable_genes` on the same lognorm matrix
(the chosen cells, zeros included, genes detected in at least one of them), both flavours, with and without
a `where`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loader.features import make_unique
from tests.helpers.oracle import DenseStudy, stored_lognorm
from tests.helpers.studies import ARM_COLUMN, read_counts

pytestmark = pytest.mark.studies("pbmc", "counts")

TREG = "CD4+/CD25 T Reg"


def scanpy_hvg(
    lognorm: np.ndarray, genes: list[str], chosen: np.ndarray, flavor: str, **options
) -> pd.DataFrame:
    """scanpy's table for the chosen cells of a genes × cells lognorm matrix."""
    import anndata
    import scanpy as sc

    adata = anndata.AnnData(X=np.ascontiguousarray(lognorm[:, chosen].T), var=pd.DataFrame(index=genes))
    sc.pp.filter_genes(adata, min_cells=1)
    return sc.pp.highly_variable_genes(adata, flavor=flavor, inplace=False, **options)


def assert_same(answer: dict, expected: pd.DataFrame, n_cells: int) -> None:
    assert answer["observation_count"] == n_cells
    assert answer["n_genes"] == len(expected)
    assert answer["n_highly_variable"] == int(expected["highly_variable"].sum())
    got = {item["gene"]: item for item in answer["genes"]}
    assert set(got) == set(expected.index)
    for gene, row in expected.iterrows():
        item = got[gene]
        assert item["highly_variable"] == bool(row["highly_variable"]), gene
        assert item["means"] == pytest.approx(row["means"], rel=1e-6, abs=1e-12), gene
        for column in ("dispersions", "dispersions_norm"):
            if np.isfinite(row[column]):
                assert item[column] == pytest.approx(row[column], rel=1e-6, abs=1e-9), (gene, column)
            else:
                assert item[column] is None, (gene, column)
    norms = [np.inf if g["dispersions_norm"] is None else -g["dispersions_norm"] for g in answer["genes"]]
    assert norms == sorted(norms)  # highest normalised dispersion first, undefined last


@pytest.fixture(scope="module")
def counts(counts_study_dir) -> DenseStudy:
    return read_counts(counts_study_dir)


@pytest.mark.parametrize("flavor", ["seurat", "cell_ranger"])
@pytest.mark.parametrize(
    ("cell_types", "options"),
    [([TREG], {}), (["CD14+ Monocyte", "Dendritic"], {"n_top_genes": 50}), ([], {"n_top_genes": 100})],
)
def test_matches_scanpy_on_pbmc(api, pbmc_dense, flavor, cell_types, options) -> None:
    body = {"dataset": "pbmc", "flavor": flavor, "cell_types": cell_types, **options}
    response = api.post("/highly-variable-genes", json=body)
    assert response.status_code == 200, response.json
    chosen = pbmc_dense.cells_of(cell_types)
    expected = scanpy_hvg(pbmc_dense.matrix, pbmc_dense.genes, chosen, flavor, **options)
    assert_same(response.json, expected, int(chosen.sum()))
    if "n_top_genes" in options:
        assert response.json["n_highly_variable"] >= options["n_top_genes"]


@pytest.mark.parametrize("flavor", ["seurat", "cell_ranger"])
def test_matches_scanpy_with_where_and_cutoffs(api, pbmc_dense, flavor) -> None:
    where = {"phase": ["G1", "S"], "percent_mito": {"max": 0.015}}
    cutoffs = {"min_mean": 0.05, "max_mean": 4.0, "min_disp": 0.3}
    body = {"dataset": "pbmc", "flavor": flavor, "cell_types": ["Dendritic"], "where": where, **cutoffs}
    response = api.post("/highly-variable-genes", json=body)
    assert response.status_code == 200, response.json
    chosen = pbmc_dense.where(where, ["Dendritic"])
    assert 20 < chosen.sum() < (pbmc_dense.cell_types == "Dendritic").sum()
    expected = scanpy_hvg(pbmc_dense.matrix, pbmc_dense.genes, chosen, flavor, **cutoffs)
    assert_same(response.json, expected, int(chosen.sum()))
    subset = api.post("/highly-variable-genes", json={**body, "subset": True}).json
    assert [g["gene"] for g in subset["genes"]] == [
        g["gene"] for g in response.json["genes"] if g["highly_variable"]
    ]


def test_matches_scanpy_on_counts_with_where(api, counts) -> None:
    """Counts normalised by the marts (scanpy's normalize_total + log1p); seurat on a small group with genes
    that tie and genes detected in one cell."""
    where = {ARM_COLUMN: ["drug A+B", "placebo (saline)"]}
    body = {"dataset": "counts", "cell_types": ["T cell", "B cell"], "where": where, "n_top_genes": 10}
    response = api.post("/highly-variable-genes", json=body)
    assert response.status_code == 200, response.json
    chosen = counts.where(where, ["T cell", "B cell"])
    genes = make_unique(counts.genes)
    expected = scanpy_hvg(stored_lognorm(counts), genes, chosen, "seurat", n_top_genes=10)
    assert_same(response.json, expected, int(chosen.sum()))


def test_bad_requests_name_the_field(api) -> None:
    def error(body: dict) -> tuple[int, str | None]:
        response = api.post("/highly-variable-genes", json={"dataset": "pbmc", **body})
        return response.status_code, response.json.get("field")

    assert error({"n_top_genes": 10, "min_mean": 0.1}) == (400, "n_top_genes")
    assert error({"flavor": "seurat_v3"}) == (400, "flavor")
    assert error({"n_top_genes": 0}) == (400, "n_top_genes")
    assert error({"cell_types": ["nope"]}) == (404, "cell_types")
    assert error({"where": {"phase": ["G1"], "percent_mito": {"min": 5.0}}}) == (400, "where")
