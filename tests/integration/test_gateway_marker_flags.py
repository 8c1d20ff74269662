"""Markers a biologist can trust: the expm1 means behind each fold change, the pseudocount-decided fold
changes flagged, group sizes and the small-group flag — against numpy on the same matrix."""

from __future__ import annotations

from urllib.parse import quote

import numpy as np
import pytest

pytestmark = pytest.mark.studies("pbmc")

TREG = "CD4+/CD25 T Reg"


def _close(actual: float, expected: float) -> bool:
    return bool(np.isclose(actual, expected, rtol=1e-6, atol=1e-12))


@pytest.mark.parametrize("method", ["t-test", "wilcoxon"])
def test_markers_carry_the_means_of_their_fold_change(api, pbmc_dense, method) -> None:
    got = api.get(
        f"/cell-types/{quote(TREG, safe='')}/markers?dataset=pbmc&limit=1000&method={method}"
    ).get_json()
    inside = pbmc_dense.cells_of([TREG])
    assert got["n_in"] == inside.sum() and got["n_out"] == (~inside).sum()
    assert got["min_group_size"] == 20 and got["small_group"] == (inside.sum() < 20)
    bound_seen = 0
    for r in got["results"]:
        row = pbmc_dense.gene_row(r["gene"])
        e_in, e_out = np.expm1(row[inside].mean()), np.expm1(row[~inside].mean())
        assert _close(r["expm1_mean_in"], e_in) and _close(r["expm1_mean_out"], e_out), r["gene"]
        assert _close(r["log2_fold_change"], np.log2((e_in + 1e-9) / (e_out + 1e-9))), r["gene"]
        bound = not np.any(row[inside]) or not np.any(row[~inside])
        assert r["fold_change_bound"] == bound, r["gene"]
        bound_seen += bound
        if bound:
            assert abs(r["log2_fold_change"]) > 15  # only the pseudocount decides it
    assert bound_seen, "the study has genes absent from the cell type"


def test_small_groups_are_flagged(api, pbmc_dense) -> None:
    labels, counts = np.unique(pbmc_dense.cell_types, return_counts=True)
    small = str(labels[np.argmin(counts)])
    big = str(labels[np.argmax(counts)])
    assert counts.min() < 20 <= counts.max()
    tiny = api.get(f"/cell-types/{quote(small, safe='')}/markers?dataset=pbmc").get_json()
    assert tiny["small_group"] is True and tiny["n_in"] == counts.min()
    large = api.get(f"/cell-types/{quote(big, safe='')}/markers?dataset=pbmc").get_json()
    assert large["small_group"] is False
    compared = api.post(
        "/differential-expression",
        json={"dataset": "pbmc", "group_a": {"cell_types": [small]}, "group_b": {"cell_types": [big]}},
    ).get_json()
    assert compared["small_group"] is True and compared["min_group_size"] == 20
    a, b = pbmc_dense.cells_of([small]), pbmc_dense.cells_of([big])
    for r in compared["results"]:
        row = pbmc_dense.gene_row(r["gene"])
        assert _close(r["expm1_mean_a"], np.expm1(row[a].mean()))
        assert _close(r["expm1_mean_b"], np.expm1(row[b].mean()))
        assert r["fold_change_bound"] == (not np.any(row[a]) or not np.any(row[b]))
