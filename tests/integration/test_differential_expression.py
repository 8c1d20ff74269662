"""POST /differential-expression against scipy on the dense lognorm matrix (zeros counted), to 1e-6: both
methods, a cell type against the rest and two groups chosen by metadata (group and numeric columns), many ties
(the demo's small counts), names with spaces, `+`, `/` and parentheses — and the refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from bench.study import make_unique
from gateway.analyses import differential
from loader.synth import CELL_TYPES
from tests.helpers.oracle import DenseStudy, rank_genes_oracle, stored_lognorm
from tests.helpers.studies import ARM_COLUMN, read_counts, read_demo_like

pytestmark = pytest.mark.studies("pbmc", "tenx", "counts", "demo")

FIELDS = ("score", "p_value", "p_value_adj", "log2_fold_change", "mean_a", "mean_b", "pct_a", "pct_b")


@pytest.fixture(scope="module")
def demo(demo_study_dir: Path) -> tuple[DenseStudy, np.ndarray]:
    study = read_demo_like(demo_study_dir)
    return study, stored_lognorm(study)


@pytest.fixture(scope="module")
def counts(counts_study_dir: Path) -> tuple[DenseStudy, np.ndarray]:
    study = read_counts(counts_study_dir)
    return study, stored_lognorm(study)


def _post(api, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/differential-expression", json={"limit": 100_000, **body})
    assert response.status_code == 200, response.json
    return response.json


def _check(answer: dict[str, Any], study: DenseStudy, lognorm: np.ndarray, a, b, method: str) -> None:
    """Every gene's numbers equal scipy's, and the order is by score (undefined last)."""
    expected = rank_genes_oracle(lognorm, a, b, method)
    assert (answer["n_a"], answer["n_b"]) == (int(a.sum()), int(b.sum()))
    genes = make_unique(study.genes)  # as the loader stores duplicated symbols
    assert len(answer["results"]) == len(genes)
    for item in answer["results"]:
        i = genes.index(item["gene"])
        for name in FIELDS:
            want = expected[name][i]
            if np.isnan(want):
                assert item[name] is None, (item["gene"], name)
            else:
                assert item[name] == pytest.approx(want, rel=1e-6, abs=1e-9), (item["gene"], name)
    scores = [r["score"] for r in answer["results"]]
    defined = [s for s in scores if s is not None]
    assert defined == sorted(defined, reverse=True)
    assert scores[: len(defined)] == defined


@pytest.mark.parametrize("method", ["wilcoxon", "t-test"])
def test_cell_type_against_the_rest(api, demo, method: str) -> None:
    study, lognorm = demo
    answer = _post(api, {"dataset": "demo", "group_a": {"cell_types": ["Epithelial"]}, "method": method})
    a = study.cells_of(["Epithelial"])
    _check(answer, study, lognorm, a, ~a, method)
    assert answer["results"][0]["gene"] in CELL_TYPES["Epithelial"][1]


def test_ranks_over_many_queries_of_a_few_genes_each(api, demo, monkeypatch) -> None:
    """A large study's rank test runs over ranges of genes (each query holds only its genes' values); forced
    here to ~50 genes a query (six or more queries), the answers are the same."""
    study, lognorm = demo
    values_per_gene = np.count_nonzero(lognorm) / lognorm.shape[0]
    monkeypatch.setattr(differential, "RANK_VALUES_PER_QUERY", int(50 * values_per_gene))
    chunked = differential._gene_chunks
    queries: list[int] = []
    monkeypatch.setattr(
        differential, "_gene_chunks", lambda *args: queries.append(len(chunked(*args))) or chunked(*args)
    )
    where = {"condition": ["recurrent"]}
    group_a = {"cell_types": ["Epithelial"], "where": where}
    answer = _post(api, {"dataset": "demo", "group_a": group_a, "method": "wilcoxon"})
    a = study.cells_of(["Epithelial"]) & study.where(where)
    _check(answer, study, lognorm, a, ~a, "wilcoxon")
    assert len(queries) == 1 and queries[0] >= len(study.genes) // 50 >= 5  # several queries, one answer


def test_the_demo_has_many_ties_besides_the_zeros(demo) -> None:
    """What makes the tie correction matter: equal non-zero values within a gene (small counts)."""
    _, lognorm = demo
    stored = [row[row != 0] for row in lognorm]
    tied = sum(len(row) - len(np.unique(row)) for row in stored)
    assert tied > 10_000


@pytest.mark.parametrize("method", ["wilcoxon", "t-test"])
def test_two_groups_by_group_and_numeric_columns(api, demo, method: str) -> None:
    study, lognorm = demo
    where_a = {"condition": ["recurrent", "neoadjuvant chemo"], "pct_mito": {"max": 5.0}}
    where_b = {"condition": ["treatment-naive"], "donor_id": ["D03", "D06", "D09", "D01"]}
    body = {
        "dataset": "demo",
        "group_a": {"cell_types": ["T cell", "NK cell"], "where": where_a},
        "group_b": {"where": where_b},
        "method": method,
    }
    answer = _post(api, body)
    a = study.where(where_a, ["T cell", "NK cell"])
    b = study.where(where_b)
    assert a.sum() > 10 and b.sum() > 10 and not (a & b).any()
    _check(answer, study, lognorm, a, b, method)


def test_tie_correct_false_is_scanpys_uncorrected_z(api, demo) -> None:
    study, lognorm = demo
    body = {"dataset": "demo", "group_a": {"cell_types": ["Macrophage"]}, "tie_correct": False}
    answer = _post(api, body)
    a = study.cells_of(["Macrophage"])
    x, y = lognorm[:, a], lognorm[:, ~a]
    u = stats.mannwhitneyu(x, y, axis=1, method="asymptotic", use_continuity=False).statistic
    n_a, n_b = x.shape[1], y.shape[1]
    z = (u - n_a * n_b / 2) / np.sqrt(n_a * n_b * (n_a + n_b + 1) / 12)
    for item in answer["results"]:
        expected = z[study.genes.index(item["gene"])]
        assert item["score"] == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("method", ["wilcoxon", "t-test"])
def test_names_with_spaces_plus_slash_and_parentheses(api, counts, method: str) -> None:
    study, lognorm = counts
    where_a = {ARM_COLUMN: ["drug A+B", "drug A / low dose"], "pct_mito": {"min": 2.5}}
    where_b = {ARM_COLUMN: ["placebo (saline)"]}
    answer = _post(
        api,
        {"dataset": "counts", "group_a": {"where": where_a}, "group_b": {"where": where_b}, "method": method},
    )
    a, b = study.where(where_a), study.where(where_b)
    _check(answer, study, lognorm, a, b, method)


@pytest.mark.parametrize(
    ("types_a", "types_b"),
    [
        (
            ["T cell", "Megakaryocyte"],
            None,
        ),  # a one-cell type (no variance of its own) in A, unannotated in B
        (["B cell"], ["NK cell", "unannotated"]),
    ],
)
def test_t_test_between_whole_cell_types_reads_gene_stats(api, counts, types_a, types_b, monkeypatch) -> None:
    """Without a `where` the t-test combines marts.gene_stats' per cell type moments; the numbers are still
    scipy's, and the same as the scan of every stored value that a `where` on the same cells takes."""
    study, lognorm = counts
    body: dict[str, Any] = {"dataset": "counts", "group_a": {"cell_types": types_a}, "method": "t-test"}
    if types_b is not None:
        body["group_b"] = {"cell_types": types_b}
    scanned = 0
    scan = differential._sql

    def counting_scan(*args: Any) -> str:
        nonlocal scanned
        scanned += 1
        return scan(*args)

    monkeypatch.setattr(differential, "_sql", counting_scan)
    answer = _post(api, body)
    assert scanned == 0
    a = study.cells_of(types_a)
    b = ~a if types_b is None else study.cells_of(types_b)
    _check(answer, study, lognorm, a, b, "t-test")
    every_cell = {"where": {"cell_type": sorted(set(study.cell_types))}}
    both = {**body, "group_a": {**body["group_a"], **every_cell}}
    if types_b is not None:
        both["group_b"] = {**body["group_b"], **every_cell}
    scanned_answer = _post(api, both)
    assert scanned > 0
    scanned_by_gene = {r["gene"]: r for r in scanned_answer["results"]}
    assert len(scanned_by_gene) == len(answer["results"])
    for mine in answer["results"]:
        theirs = scanned_by_gene[mine["gene"]]
        for name in FIELDS:
            if theirs[name] is None or mine[name] is None:
                assert mine[name] is theirs[name], (mine["gene"], name, mine[name])
                continue
            assert mine[name] == pytest.approx(theirs[name], rel=1e-9, abs=1e-12), (mine["gene"], name)


def test_pbmc_cell_types_with_plus_and_slash(api, pbmc_dense) -> None:
    body = {
        "dataset": "pbmc",
        "group_a": {"cell_types": ["CD4+/CD25 T Reg", "CD4+/CD45RO+ Memory"]},
        "group_b": {"cell_types": ["CD14+ Monocyte"], "where": {"phase": ["G1", "S"]}},
    }
    answer = _post(api, body)
    a = pbmc_dense.cells_of(["CD4+/CD25 T Reg", "CD4+/CD45RO+ Memory"])
    b = pbmc_dense.where({"phase": ["G1", "S"]}, ["CD14+ Monocyte"])
    _check(answer, pbmc_dense, pbmc_dense.matrix, a, b, "wilcoxon")


def test_gene_subset_and_limit(api, demo) -> None:
    study, lognorm = demo
    genes = ["EPCAM", "CD3D", "GAPDH", "MKI67"]
    body = {"dataset": "demo", "group_a": {"cell_types": ["T cell"]}, "genes": genes, "limit": 2}
    answer = _post(api, body)
    assert [r["gene"] for r in answer["results"]] == ["CD3D", answer["results"][1]["gene"]]
    a = study.cells_of(["T cell"])
    rows = [study.genes.index(g) for g in genes]
    expected = rank_genes_oracle(lognorm[rows], a, ~a, "wilcoxon")  # BH over the genes tested only
    for item in answer["results"]:
        i = genes.index(item["gene"])
        assert item["p_value_adj"] == pytest.approx(expected["p_value_adj"][i], rel=1e-6)


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (
            {"group_a": {"cell_types": ["T cell"]}, "group_b": {"cell_types": ["T cell", "B cell"]}},
            400,
            "overlap",
        ),
        ({"group_a": {"cell_types": ["Megakaryocyte"]}}, 400, "group_a: the selection has one cell"),
        ({"group_a": {"where": {"pct_mito": {"min": 99}}}}, 400, "group_a: the selection has no cells"),
        (
            {"group_a": {"cell_types": ["T cell"]}, "group_b": {"where": {"pct_mito": {"min": 99}}}},
            400,
            "group_b",
        ),
        ({"group_a": {"where": {"Subjekt": ["donor0"]}}}, 400, "the columns are cell_type, sample, Cluster"),
        ({"group_a": {"where": {"Subject": ["donor9"]}}}, 400, "unknown value 'donor9'"),
        ({"group_a": {"where": {"Subject": {"min": 1}}}}, 400, "is a group column"),
        ({"group_a": {"where": {"pct_mito": [1]}}}, 400, "group_a.where.pct_mito"),
        ({"group_a": {"where": {"pct_mito": ["1"]}}}, 400, "is a numeric column"),
        ({"group_a": {"where": {"pct_mito": {"min": 5, "max": 1}}}}, 400, "min (5.0) is above max (1.0)"),
        ({"group_a": {"where": {"Subject": []}}}, 400, "at least one value"),
        ({"group_a": {"cell_types": ["T cel"]}}, 404, "unknown cell type 'T cel'"),
        ({"group_a": {"cell_types": ["T cell"]}, "genes": ["NOPE"]}, 404, "unknown gene 'NOPE'"),
        ({"group_a": {"cell_types": ["T cell"]}, "method": "wald"}, 400, "method"),
    ],
)
def test_refusals(api, body: dict[str, Any], status: int, fragment: str) -> None:
    response = api.post("/differential-expression", json={"dataset": "counts", **body})
    assert response.status_code == status, response.json
    assert fragment in response.json["error"]


def test_where_on_a_dataset_without_metadata(api) -> None:
    body = {"dataset": "tenx", "group_a": {"where": {"cell_type": ["unannotated"]}}}
    response = api.post("/differential-expression", json=body)
    assert response.status_code == 400
    assert response.json["error"] == "group_a.where: dataset 'tenx' has no cell metadata to select cells by"


def test_unknown_value_suggests_close_ones(api) -> None:
    body = {"dataset": "counts", "group_a": {"where": {ARM_COLUMN: ["drug A+C"]}}}
    response = api.post("/differential-expression", json=body)
    assert response.status_code == 400
    assert "drug A+B" in response.json["suggestions"]


MARKER_FIELDS = {
    "score": "score",
    "p_value": "p_value",
    "p_value_adj": "p_value_adj",
    "log2_fold_change": "log2_fold_change",
    "mean_in": "mean_a",
    "mean_out": "mean_b",
    "pct_in": "pct_a",
    "pct_out": "pct_b",
}


def _check_markers(items, study: DenseStudy, lognorm: np.ndarray, a, b, method: str) -> None:
    expected = rank_genes_oracle(lognorm, a, b, method)
    genes = make_unique(study.genes)
    assert len(items) == len(genes)
    for item in items:
        i = genes.index(item["gene"])
        for name, oracle in MARKER_FIELDS.items():
            want = expected[oracle][i]
            if np.isnan(want):
                assert item[name] is None, (item["gene"], name)
            else:
                assert item[name] == pytest.approx(want, rel=1e-6, abs=1e-9), (item["gene"], name)
    scores = [r["score"] for r in items if r["score"] is not None]
    assert scores == sorted(scores, reverse=True)


def test_wilcoxon_markers_of_a_cell_type_with_plus_and_slash(api, pbmc_dense) -> None:
    response = api.get(
        "/cell-types/CD4%2B%2FCD25%20T%20Reg/markers",
        query_string={"dataset": "pbmc", "method": "wilcoxon", "limit": 100_000},
    )
    assert response.status_code == 200, response.json
    a = pbmc_dense.cells_of(["CD4+/CD25 T Reg"])
    _check_markers(response.json["results"], pbmc_dense, pbmc_dense.matrix, a, ~a, "wilcoxon")
    assert all(item["t_statistic"] is None for item in response.json["results"])


@pytest.mark.parametrize("method", ["wilcoxon", "t-test"])
def test_markers_with_where_restrict_the_rest_too(api, demo, method: str) -> None:
    study, lognorm = demo
    where = {"condition": ["recurrent"], "pct_mito": {"min": 2.0}}
    response = api.get(
        "/cell-types/Macrophage/markers",
        query_string={"dataset": "demo", "method": method, "limit": 100_000, "where": json.dumps(where)},
    )
    assert response.status_code == 200, response.json
    chosen = study.where(where)
    a = chosen & study.cells_of(["Macrophage"])
    _check_markers(response.json["results"], study, lognorm, a, chosen & ~a, method)


def test_t_test_markers_score_is_t(api) -> None:
    response = api.get("/cell-types/B%20cell/markers", query_string={"dataset": "counts"})
    items = response.json["results"]
    assert items and all(item["score"] == item["t_statistic"] for item in items)


def test_markers_refuse_a_bad_where(api) -> None:
    response = api.get(
        "/cell-types/B%20cell/markers", query_string={"dataset": "counts", "where": '{"pct_mito": ["1"]}'}
    )
    assert response.status_code == 400 and "numeric column" in response.json["error"]
    query = {"dataset": "counts", "where": "{not json"}
    response = api.get("/cell-types/B%20cell/markers", query_string=query)
    assert response.status_code == 400 and response.json["field"] == "where"


def test_null_where_and_genes_mean_not_given(api) -> None:
    """JSON null is "not given" (a fuzzer found null under `where` ending in a 500)."""
    body = {
        "dataset": "counts",
        "group_a": {"cell_types": ["T cell"], "where": None},
        "genes": None,
        "limit": 1,
    }
    response = api.post("/differential-expression", json=body)
    assert response.status_code == 200, response.json
    response = api.get("/dot-plot", query_string={"dataset": "counts", "genes": ["GENE7"], "where": "null"})
    assert response.status_code == 200, response.json
