"""The endpoints the explorer page added — multi-gene dot plot and two genes cell by cell — against numpy."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.studies("pbmc")

TREG = "CD4+/CD25 T Reg"
GENES = ["CD74", "CD3D", "NKG7", "HLA-DRA"]


def close(actual: float | None, expected: float) -> bool:
    return actual is not None and bool(np.isclose(actual, expected, rtol=1e-6, atol=1e-12))


def test_dot_plot_matches_numpy_for_every_gene_and_cell_type(api, pbmc_dense) -> None:
    got = api.get("/dot-plot", query_string={"genes": GENES, "dataset": "pbmc"}).get_json()
    types = sorted(set(pbmc_dense.cell_types))
    assert got["genes"] == GENES and sorted(got["cell_types"]) == types
    assert len(got["rows"]) == len(GENES) * len(types)
    for row in got["rows"]:
        x = pbmc_dense.gene_row(row["gene"])[pbmc_dense.cells_of([row["cell_type"]])]
        assert row["n_cells"] == x.size and row["n_expressing"] == np.count_nonzero(x)
        assert close(row["mean"], x.mean()) and close(row["pct_expressing"], (x != 0).mean())
        if np.count_nonzero(x):
            assert close(row["mean_expressing"], x[x != 0].mean())
        else:
            assert row["mean_expressing"] is None


def test_dot_plot_orders(api, pbmc_dense) -> None:
    query = {"genes": ["NKG7"], "dataset": "pbmc"}
    one = api.get("/dot-plot", query_string=query).get_json()
    means = {r["cell_type"]: r["mean"] for r in one["rows"]}
    assert [means[c] for c in one["cell_types"]] == sorted(means.values(), reverse=True)

    by_size = api.get("/dot-plot", query_string={**query, "cell_order": "size"}).get_json()
    labels, counts = np.unique(pbmc_dense.cell_types, return_counts=True)
    size = dict(zip(labels.tolist(), counts.tolist(), strict=True))
    assert [size[c] for c in by_size["cell_types"]] == sorted(size.values(), reverse=True)
    assert api.get("/dot-plot", query_string={**query, "cell_order": "name"}).get_json()[
        "cell_types"
    ] == sorted(size)

    clustered = api.get(
        "/dot-plot", query_string={"genes": GENES, "dataset": "pbmc", "gene_order": "clustered"}
    ).get_json()
    assert sorted(clustered["genes"]) == sorted(GENES) and sorted(clustered["cell_types"]) == sorted(size)


def test_dot_plot_unknown_gene_names_it_with_suggestions(api) -> None:
    # Issue 22: an unknown gene no longer blocks the plot — the others are drawn, the unknown one listed.
    got = api.get("/dot-plot", query_string={"genes": ["CD74", "CD3DD"], "dataset": "pbmc"})
    assert got.status_code == 200
    body = got.get_json()
    assert body["genes"] == ["CD74"] and body["unknown"][0]["given"] == "CD3DD"
    assert "CD3D" in body["unknown"][0]["suggestions"]
    alone = api.get("/dot-plot", query_string={"genes": ["CD3DD"], "dataset": "pbmc"})
    assert alone.status_code == 404
    body = alone.get_json()
    assert body["field"] == "genes" and body["value"] == "CD3DD" and "CD3D" in body["suggestions"]
    too_many = api.get("/dot-plot", query_string={"genes": [f"G{i}" for i in range(5001)], "dataset": "pbmc"})
    assert too_many.status_code == 400 and too_many.get_json()["field"] == "genes"


def _pair(api, **body):
    response = api.post("/gene-pair", json={"dataset": "pbmc", **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("cell_types", [[TREG, "Dendritic"], []])
def test_gene_pair_points_are_every_cell(api, pbmc_dense, cell_types) -> None:
    got = _pair(api, gene_a="CD74", gene_b="HLA-DRA", cell_types=cell_types)
    cells = pbmc_dense.cells_of(cell_types)
    x_all, y_all = pbmc_dense.gene_row("CD74")[cells], pbmc_dense.gene_row("HLA-DRA")[cells]
    assert got["mode"] == "points" and got["bins"] is None
    points = got["points"]
    assert len(points["x"]) == cells.sum() == got["observation_count"]
    expected = dict(
        zip(np.array(pbmc_dense.barcodes)[cells].tolist(), zip(x_all, y_all, strict=True), strict=True)
    )
    for barcode, cell_type, x, y in zip(
        *(points[k] for k in ("barcode", "cell_type", "x", "y")), strict=True
    ):
        assert close(x, expected[barcode][0]) or x == expected[barcode][0] == 0
        assert close(y, expected[barcode][1]) or y == expected[barcode][1] == 0
        assert cell_type == pbmc_dense.cell_types[pbmc_dense.barcodes.index(barcode)]
    assert got["n_expressing_a"] == np.count_nonzero(x_all) and got["n_expressing_b"] == np.count_nonzero(
        y_all
    )
    assert got["n_zero_both"] == np.sum((x_all == 0) & (y_all == 0))
    correlation = api.post(
        "/gene-correlation",
        json={"dataset": "pbmc", "gene_a": "CD74", "gene_b": "HLA-DRA", "cell_types": cell_types},
    ).get_json()
    assert correlation["n_expressing_both"] == got["n_expressing_both"]


def test_gene_pair_bins_hold_every_cell_and_zeros_alone(api, pbmc_dense) -> None:
    got = _pair(api, gene_a="CD74", gene_b="NKG7", max_points=10, bins=20)
    x, y = pbmc_dense.gene_row("CD74"), pbmc_dense.gene_row("NKG7")
    assert got["mode"] == "bins" and got["points"] is None
    bins = got["bins"]

    def nearest(values: np.ndarray, step: float) -> np.ndarray:
        index = np.round(values / step)
        index = np.where(np.abs(index) < 1, np.sign(values), index)
        return np.where(values == 0, 0, index).astype(int)

    cells = list(zip(nearest(x, bins["x_step"]), nearest(y, bins["y_step"]), strict=True))
    labels, counts = np.unique(np.array(cells), axis=0, return_counts=True)
    expected = {tuple(label): int(n) for label, n in zip(labels.tolist(), counts, strict=True)}
    got_bins = dict(zip(zip(bins["x_bin"], bins["y_bin"], strict=True), bins["n_cells"], strict=True))
    assert got_bins == expected
    assert sum(bins["n_cells"]) == len(pbmc_dense.barcodes)
    assert got_bins.get((0, 0), 0) == got["n_zero_both"] == np.sum((x == 0) & (y == 0))
    assert close(bins["x_step"], (max(x.max(), 0) - min(x.min(), 0)) / 20)


def test_gene_pair_unknown_gene(api) -> None:
    got = api.post("/gene-pair", json={"dataset": "pbmc", "gene_a": "CD74", "gene_b": "HLA-DRX"})
    assert got.status_code == 404
    assert got.get_json()["field"] == "gene_b" and "HLA-DRA" in got.get_json()["suggestions"]
