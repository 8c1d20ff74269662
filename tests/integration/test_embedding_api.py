"""GET /datasets/{d}/embeddings and POST /embedding against numpy on the study files (scanpy's UMAP of the
PBMC study): points, the grid (numpy.histogram2d on the returned edges, the bins' mean lognorm and expressing
cells), metadata colours; and a `where` polygon term selecting cells for the correlation and differential
expression questions, against a numpy point-in-polygon selection."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tests.helpers.hdf5_inputs import pbmc_umap

pytestmark = pytest.mark.studies("pbmc")
EMBEDDING = "pbmc.umap"
GENE = "CST3"


def inside(points: np.ndarray, polygon: list[list[float]]) -> np.ndarray:
    """Even-odd ray casting: which points lie inside the polygon (none lies on an edge in these tests)."""
    x, y = points[:, 0], points[:, 1]
    result = np.zeros(len(points), dtype=bool)
    vertices = np.asarray(polygon, dtype=np.float64)
    for (x1, y1), (x2, y2) in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        result ^= crosses & (x < at)
    return result


# A region drawn around one island of the PBMC UMAP (a pentagon, not axis-aligned).
POLYGON = [[-6.0, 4.0], [0.5, 3.0], [1.5, 9.5], [-2.0, 11.5], [-7.0, 8.0]]


@pytest.fixture(scope="module")
def umap() -> np.ndarray:
    return pbmc_umap()


def test_embeddings_are_listed_with_their_ranges(api, built_store, umap) -> None:
    answer = api.get("/datasets/pbmc/embeddings").json
    [item] = answer["embeddings"]
    assert item == {
        "name": EMBEDDING,
        "n_cells": 700,
        "x_min": umap[:, 0].min(),
        "x_max": umap[:, 0].max(),
        "y_min": umap[:, 1].min(),
        "y_max": umap[:, 1].max(),
    }


def test_points_coloured_by_a_gene_carry_every_cell_and_its_lognorm(
    api, built_store, umap, pbmc_dense
) -> None:
    answer = api.post("/embedding", json={"dataset": "pbmc", "embedding": EMBEDDING, "gene": GENE}).json
    assert (answer["mode"], answer["colour_kind"], answer["n_cells"]) == ("points", "gene", 700)
    points = answer["points"]
    assert points["barcode"] == pbmc_dense.barcodes  # matrix order
    np.testing.assert_array_equal(np.column_stack([points["x"], points["y"]]), umap)
    values = pbmc_dense.gene_row(GENE)
    np.testing.assert_allclose(points["value"], values, rtol=1e-9, atol=0)
    assert answer["n_expressing"] == int((values != 0).sum())
    assert points["cell_type"] == list(pbmc_dense.cell_types)


@pytest.mark.parametrize("bins", [7, 60])
def test_the_grid_equals_numpy_histogram2d_with_mean_expression(
    api, built_store, umap, pbmc_dense, bins
) -> None:
    body = {"dataset": "pbmc", "embedding": EMBEDDING, "gene": GENE, "max_points": 100, "bins": bins}
    answer = api.post("/embedding", json=body).json
    assert answer["mode"] == "bins"
    grid = answer["bins"]
    x_edges, y_edges = np.array(grid["x_edges"]), np.array(grid["y_edges"])
    np.testing.assert_array_equal(x_edges, np.linspace(umap[:, 0].min(), umap[:, 0].max(), bins + 1))
    counts, _, _ = np.histogram2d(umap[:, 0], umap[:, 1], bins=[x_edges, y_edges])
    values = pbmc_dense.gene_row(GENE)
    sums, _, _ = np.histogram2d(umap[:, 0], umap[:, 1], bins=[x_edges, y_edges], weights=values)
    expressing, _, _ = np.histogram2d(umap[:, 0], umap[:, 1], bins=[x_edges, y_edges], weights=values != 0)
    got = np.zeros_like(counts)
    got[grid["x_bin"], grid["y_bin"]] = grid["n_cells"]
    np.testing.assert_array_equal(got, counts)
    assert all(n > 0 for n in grid["n_cells"])  # only non-empty bins
    ix, iy = np.array(grid["x_bin"]), np.array(grid["y_bin"])
    np.testing.assert_allclose(grid["mean"], sums[ix, iy] / counts[ix, iy], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(grid["n_expressing"], expressing[ix, iy])
    assert (answer["n_cells"], answer["n_expressing"]) == (700, int((values != 0).sum()))


def test_the_grid_of_a_selection_and_a_group_colour(api, built_store, umap, pbmc_dense) -> None:
    types = ["CD14+ Monocyte", "Dendritic"]
    body = {
        "dataset": "pbmc",
        "embedding": EMBEDDING,
        "color_by": "phase",
        "cell_types": types,
        "max_points": 0,
        "bins": 12,
    }
    answer = api.post("/embedding", json=body).json
    chosen = pbmc_dense.cells_of(types)
    grid = answer["bins"]
    assert answer["n_cells"] == int(chosen.sum()) == sum(grid["n_cells"])
    assert answer["n_expressing"] is None
    x_edges, y_edges = np.array(grid["x_edges"]), np.array(grid["y_edges"])
    phase = pbmc_dense.groups["phase"]
    ix = np.searchsorted(x_edges, umap[:, 0], side="right") - 1
    iy = np.searchsorted(y_edges, umap[:, 1], side="right") - 1
    ix[umap[:, 0] == x_edges[-1]] -= 1
    iy[umap[:, 1] == y_edges[-1]] -= 1
    for bx, by, n, top, top_n in zip(
        grid["x_bin"], grid["y_bin"], grid["n_cells"], grid["top_value"], grid["top_count"], strict=True
    ):
        cells = chosen & (ix == bx) & (iy == by)
        values, counts = np.unique(phase[cells], return_counts=True)
        assert n == cells.sum() and top_n == counts.max()
        assert top == max(v for v, c in zip(values, counts, strict=True) if c == counts.max())


def test_points_coloured_by_a_numeric_column(api, built_store, pbmc_dense) -> None:
    body = {"dataset": "pbmc", "embedding": EMBEDDING, "color_by": "n_counts", "cell_types": ["Dendritic"]}
    answer = api.post("/embedding", json=body).json
    chosen = pbmc_dense.cells_of(["Dendritic"])
    assert answer["colour_kind"] == "numeric" and answer["points"]["label"] is None
    expected = dict(zip(pbmc_dense.barcodes, pbmc_dense.numbers["n_counts"], strict=True))
    assert answer["points"]["barcode"] == list(np.array(pbmc_dense.barcodes)[chosen])
    assert answer["points"]["value"] == [expected[b] for b in answer["points"]["barcode"]]


def test_a_polygon_where_selects_the_cells_inside_for_correlation(api, built_store, umap, pbmc_dense) -> None:
    chosen = inside(umap, POLYGON)
    assert 20 < chosen.sum() < 600
    where = {EMBEDDING: {"polygon": POLYGON}}
    answer = api.post("/embedding", json={"dataset": "pbmc", "embedding": EMBEDDING, "where": where}).json
    assert answer["points"]["barcode"] == list(np.array(pbmc_dense.barcodes)[chosen])
    body = {"dataset": "pbmc", "gene_a": GENE, "gene_b": "FCER1G", "where": where}
    correlation = api.post("/gene-correlation", json=body).json
    x, y = pbmc_dense.gene_row(GENE)[chosen], pbmc_dense.gene_row("FCER1G")[chosen]
    expected = stats.pearsonr(x, y)
    assert correlation["observation_count"] == int(chosen.sum())
    assert correlation["pearson_correlation"] == pytest.approx(expected[0], rel=1e-6)
    assert correlation["p_value"] == pytest.approx(expected[1], rel=1e-6)


def test_a_polygon_where_is_a_group_for_differential_expression(api, built_store, umap, pbmc_dense) -> None:
    chosen = inside(umap, POLYGON)
    body = {
        "dataset": "pbmc",
        "group_a": {"where": {EMBEDDING: {"polygon": POLYGON}}},
        "method": "t-test",
        "genes": [GENE, "FCER1G", "NKG7"],
    }
    answer = api.post("/differential-expression", json=body)
    assert answer.status_code == 200, answer.json
    for item in answer.json["results"]:
        values = pbmc_dense.gene_row(item["gene"])
        expected = stats.ttest_ind(values[chosen], values[~chosen], equal_var=False)
        assert item["score"] == pytest.approx(expected.statistic, rel=1e-6)
        assert item["p_value"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-300)
        assert item["mean_a"] == pytest.approx(values[chosen].mean(), rel=1e-9)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"embedding": "umapp"}, "embedding", "unknown embedding 'umapp'"),
        ({"embedding": EMBEDDING, "gene": GENE, "color_by": "phase"}, "color_by", "not both"),
        ({"embedding": EMBEDDING, "color_by": "phasee"}, "color_by", "unknown column 'phasee'"),
        (
            {"embedding": EMBEDDING, "where": {"tsne": {"polygon": [[0, 0], [1, 0], [1, 1]]}}},
            "where.tsne",
            "",
        ),
        ({"embedding": EMBEDDING, "where": {EMBEDDING: {"polygon": [[0, 0], [1, 0]]}}}, "where", ""),
        (
            {"embedding": EMBEDDING, "where": {EMBEDDING: {"polygon": [[0, 0], [1, "x"], [2, 2]]}}},
            "where",
            "",
        ),
        ({"embedding": EMBEDDING, "bins": 1}, "bins", ""),
        ({"embedding": EMBEDDING, "colour": "phase"}, "colour", ""),
    ],
)
def test_bad_requests_are_400s_naming_the_field(api, built_store, body, field, message) -> None:
    answer = api.post("/embedding", json={"dataset": "pbmc", **body})
    assert answer.status_code == 400, answer.json
    text = str(answer.json)
    assert field in text and message in text


def test_nan_and_infinite_vertices_are_refused(api, built_store) -> None:
    raw = (
        '{"dataset": "pbmc", "embedding": "pbmc.umap", '
        '"where": {"pbmc.umap": {"polygon": [[0, 0], [1, NaN], [2, 2]]}}}'
    )
    answer = api.post("/embedding", data=raw, content_type="application/json")
    assert answer.status_code == 400


@pytest.mark.parametrize("max_points", [0, 5000])
def test_a_selection_coloured_by_a_gene_counts_its_own_cells(
    api, built_store, pbmc_dense, max_points
) -> None:
    types = ["CD14+ Monocyte", "CD56+ NK"]
    body = {
        "dataset": "pbmc",
        "embedding": EMBEDDING,
        "gene": GENE,
        "cell_types": types,
        "max_points": max_points,
    }
    answer = api.post("/embedding", json=body).json
    chosen = pbmc_dense.cells_of(types)
    values = pbmc_dense.gene_row(GENE)[chosen]
    assert answer["mode"] == ("bins" if max_points == 0 else "points")
    assert (answer["n_cells"], answer["n_expressing"]) == (int(chosen.sum()), int((values != 0).sum()))
