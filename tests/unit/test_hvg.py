"""The gene-level half of /highly-variable-genes (gateway.analyses.hvg) against scanpy's own
`sc.pp.highly_variable_genes` and pandas' `cut`, on matrices with the edge cases: a gene alone in its mean
bin, constant genes (dispersion 0), genes detected in one cell, ties at the n-th normalised dispersion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gateway.analyses.hvg import (
    Cutoffs,
    GeneMoments,
    bin_ids,
    equal_width_edges,
    percentile_edges,
    rank_highly_variable,
)
from gateway.analyses.stats import with_zeros
from gateway.errors import BadRequest


def _matrix(seed: int) -> np.ndarray:
    """cells × genes lognorm-like values, every gene detected at least once."""
    rng = np.random.default_rng(seed)
    n_cells, n_genes = 80, 300
    counts = rng.poisson(rng.gamma(0.5, 2.0, size=(1, n_genes)), size=(n_cells, n_genes)).astype(float)
    counts[:, 0] = 3.0  # constant: dispersion 0
    counts[:, 1] = 0.0
    counts[:, 1] = np.where(np.arange(n_cells) % 2, 5000.0, 20000.0)  # alone in the top mean bin
    counts[:, 2] = 0.0
    counts[7, 2] = 1.0  # detected in one cell
    counts[:, 3] = counts[:, 2]  # the same values: ties
    counts[0, counts.sum(axis=0) == 0] = 1.0
    return np.log1p(counts)


def _moments(x: np.ndarray, flavor: str) -> GeneMoments:
    """What the SQL aggregates — each gene's stored (non-zero) values' count, mean and sum of squared
    deviations — with the zeros added back (`with_zeros`): genes with the same stored values get the very same
    floats, as in scanpy (bins whose spread is exactly 0 are undefined in both)."""
    values = np.expm1(x) if flavor == "seurat" else x
    stored = [column[column != 0] for column in values.T]
    k = np.array([len(s) for s in stored], dtype=float)
    mean_stored = np.array([s.mean() for s in stored])
    m2_stored = np.array([((s - s.mean()) ** 2).sum() for s in stored])
    mean, variance = with_zeros(x.shape[0], k, mean_stored, m2_stored)
    return GeneMoments(
        n=x.shape[0],
        genes=np.array([f"g{i:03d}" for i in range(x.shape[1])], dtype=object),
        mean=mean,
        variance=variance,
        n_expressing=k.astype(np.int64),
    )


def _scanpy(x: np.ndarray, flavor: str, **options) -> pd.DataFrame:
    import anndata
    import scanpy as sc

    adata = anndata.AnnData(X=x, var=pd.DataFrame(index=[f"g{i:03d}" for i in range(x.shape[1])]))
    return sc.pp.highly_variable_genes(adata, flavor=flavor, inplace=False, **options)


@pytest.mark.parametrize("flavor", ["seurat", "cell_ranger"])
@pytest.mark.parametrize("options", [{}, {"n_top_genes": 25}, {"n_top_genes": 10_000}, {"n_bins": 7}])
def test_same_table_as_scanpy(flavor: str, options: dict) -> None:
    x = _matrix(3)
    expected = _scanpy(x, flavor, **options)
    n_top = options.get("n_top_genes")
    got = rank_highly_variable(
        _moments(x, flavor), flavor, n_bins=options.get("n_bins", 20), n_top_genes=n_top, cutoffs=Cutoffs()
    )
    items = {item["gene"]: item for item in got.items(subset=False)}
    for gene, row in expected.iterrows():
        item = items[gene]
        assert item["highly_variable"] == bool(row["highly_variable"]), gene
        assert item["means"] == pytest.approx(row["means"], rel=1e-9, abs=1e-15)
        for column in ("dispersions", "dispersions_norm"):
            if np.isfinite(row[column]):
                assert item[column] == pytest.approx(row[column], rel=1e-9, abs=1e-12), (gene, column)
            else:
                assert item[column] is None
    if flavor == "seurat" and not options:
        assert items["g001"]["dispersions_norm"] == 1.0  # alone in its bin
        assert items["g000"]["dispersions"] is None  # constant


def test_cutoffs_as_scanpy() -> None:
    x = _matrix(5)
    cutoffs = {"min_mean": 0.1, "max_mean": 2.0, "min_disp": 0.2, "max_disp": 5.0}
    expected = _scanpy(x, "seurat", **cutoffs)
    got = rank_highly_variable(
        _moments(x, "seurat"), "seurat", n_bins=20, n_top_genes=None, cutoffs=Cutoffs(**cutoffs)
    )
    chosen = {item["gene"] for item in got.items(subset=True)}
    assert chosen == set(expected.index[expected["highly_variable"]])


@pytest.mark.parametrize(
    "values", [np.array([0.5, 0.1, 2.0, 2.0, 0.7]), np.array([3.0, 3.0]), np.array([0.0, 0.0, 0.0])]
)
def test_equal_width_bins_are_pandas_cut(values: np.ndarray) -> None:
    codes, edges = pd.cut(values, 4, retbins=True)
    assert np.array_equal(equal_width_edges(values, 4), edges)
    assert np.array_equal(bin_ids(values, edges), codes.codes)


def test_repeated_percentile_edges_are_a_400_naming_the_flavor() -> None:
    with pytest.raises(BadRequest) as caught:
        percentile_edges(np.r_[np.zeros(30), np.arange(1.0, 71.0)])
    assert caught.value.extra["field"] == "flavor"


@pytest.mark.parametrize("flavor", ["seurat", "cell_ranger"])
@pytest.mark.parametrize("subset", [False, True])
def test_the_answer_serialised_without_item_models_is_the_response_models(flavor: str, subset: bool) -> None:
    """The route serialises the genes as plain dicts (speed): the same JSON, to the byte, as the documented
    response model would give, undefined dispersions included."""
    from pydantic import TypeAdapter

    from gateway.schemas import HighlyVariableGenesResponse

    ranked = rank_highly_variable(
        _moments(_matrix(3), flavor), flavor, n_bins=20, n_top_genes=50, cutoffs=Cutoffs()
    )
    items = ranked.items(subset=subset)
    if flavor == "seurat":  # the constant gene's log dispersion is undefined: null in JSON
        assert any(item["dispersions"] is None for item in ranked.items(subset=False))
    payload = {
        "dataset": "d",
        "flavor": flavor,
        "cell_types": ["T"],
        "observation_count": ranked.n,
        "n_genes": len(ranked.genes),
        "n_highly_variable": int(ranked.highly_variable.sum()),
        "genes": items,
    }
    as_model = HighlyVariableGenesResponse.model_validate(payload).model_dump_json()
    assert TypeAdapter(dict).dump_json(payload).decode() == as_model
