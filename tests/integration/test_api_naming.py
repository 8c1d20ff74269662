"""API naming: /gene-correlation's `correlation` with `method` (the seed's `pearson_correlation` for Pearson
requests only), and fractions everywhere — a percentage where a fraction belongs is a clear 400."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

pytestmark = pytest.mark.studies("pbmc")


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_is_named_by_its_method(api, pbmc_dense, method) -> None:
    body = {"dataset": "pbmc", "gene_a": "CD74", "gene_b": "HLA-DRA", "method": method, "by": "cell_type"}
    got = api.post("/gene-correlation", json=body).get_json()
    x, y = pbmc_dense.gene_row("CD74"), pbmc_dense.gene_row("HLA-DRA")
    expected = (stats.pearsonr if method == "pearson" else stats.spearmanr)(x, y)
    assert got["method"] == method
    assert np.isclose(got["correlation"], expected.statistic, rtol=1e-6)
    if method == "pearson":
        assert got["pearson_correlation"] == got["correlation"]
        assert all(g["pearson_correlation"] == g["correlation"] for g in got["groups"])
    else:
        assert "pearson_correlation" not in got
        assert all("pearson_correlation" not in g for g in got["groups"])


def test_fractions_refuse_percentages_clearly(api, pbmc_dense) -> None:
    body = {"dataset": "pbmc", "cell_type": "CD4+/CD25 T Reg", "limit": 1000}
    refused = api.post("/gene-variability", json={**body, "min_pct_expressing": 10})
    assert refused.status_code == 400
    answer = refused.get_json()
    assert answer["field"] == "min_pct_expressing"
    assert answer["error"].startswith("min_pct_expressing: ") and "10 % is 0.1" in answer["error"]
    kept = api.post("/gene-variability", json={**body, "min_pct_expressing": 0.1}).get_json()
    assert kept and all(item["pct_expressing"] >= 0.1 for item in kept)
    for bad in (-0.1, "ten"):
        assert api.post("/gene-variability", json={**body, "min_pct_expressing": bad}).status_code == 400
