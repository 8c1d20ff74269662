"""Cell metadata discovery (GET /datasets/{dataset}/metadata) and the `where` selection on every question,
against numpy on the same files."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pydantic import TypeAdapter
from scipy import stats

from gateway.schemas import Where
from gateway.state import get_gateway
from tests.helpers.oracle import DenseStudy, stored_lognorm
from tests.helpers.studies import ARM_COLUMN, read_counts

pytestmark = pytest.mark.studies("pbmc", "tenx", "counts")


@pytest.fixture(scope="module")
def counts(counts_study_dir: Path) -> DenseStudy:
    return read_counts(counts_study_dir)


def test_metadata_lists_every_column_with_values_or_range(api, counts: DenseStudy) -> None:
    response = api.get("/datasets/counts/metadata")
    assert response.status_code == 200
    columns = {c["name"]: c for c in response.json["columns"]}
    assert list(columns)[:2] == ["cell_type", "sample"]
    assert set(columns) == {"cell_type", "sample", "Cluster", "Subject", "n_counts", ARM_COLUMN, "pct_mito"}
    for name, labels in (("cell_type", counts.cell_types), (ARM_COLUMN, counts.groups[ARM_COLUMN])):
        expected = Counter(v for v in labels if v is not None)
        listed = columns[name]["values"]
        assert {v["value"]: v["cells"] for v in listed} == expected
        assert [v["cells"] for v in listed] == sorted(expected.values(), reverse=True)
        assert columns[name]["kind"] == "group" and columns[name]["n_more_values"] == 0
    mito = counts.numbers["pct_mito"]
    assert columns["pct_mito"]["kind"] == "numeric" and columns["pct_mito"]["values"] is None
    assert columns["pct_mito"]["min"] == pytest.approx(np.nanmin(mito))
    assert columns["pct_mito"]["max"] == pytest.approx(np.nanmax(mito))
    assert columns["pct_mito"]["cells"] == int(np.isfinite(mito).sum())


def test_metadata_caps_the_values_with_a_count_of_the_rest(api) -> None:
    response = api.get("/datasets/pbmc/metadata", query_string={"max_values": 2})
    cell_type = response.json["columns"][0]
    assert len(cell_type["values"]) == 2 and cell_type["n_more_values"] == 8


def test_metadata_of_a_study_without_metadata_and_of_an_unknown_one(api) -> None:
    response = api.get("/datasets/tenx/metadata")
    assert [c["name"] for c in response.json["columns"]] == ["cell_type", "sample"]
    assert api.get("/datasets/nope/metadata").status_code == 404


# ----- `where` on every question: the same numbers numpy/scipy give over the selected cells ---------------

WHERE = {ARM_COLUMN: ["drug A+B", "placebo (saline)"], "pct_mito": {"min": 1.0, "max": 9.0}}


@pytest.fixture(scope="module")
def lognorm(counts: DenseStudy) -> np.ndarray:
    return stored_lognorm(counts)


def _genes(counts: DenseStudy, lognorm: np.ndarray, chosen: np.ndarray, k: int = 2) -> list[str]:
    """The k genes expressed in most of the chosen cells (so that every statistic is defined)."""
    expressing = (lognorm[:, chosen] != 0).sum(axis=1)
    symbols = list(dict.fromkeys(counts.genes))
    return [g for g in (counts.genes[i] for i in np.argsort(-expressing)) if g in symbols][:k]


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_with_where_and_by_any_group_column(api, counts, lognorm, method: str) -> None:
    chosen = counts.where(WHERE, ["T cell", "B cell", "NK cell"])
    gene_a, gene_b = _genes(counts, lognorm, chosen)
    body = {
        "dataset": "counts",
        "gene_a": gene_a,
        "gene_b": gene_b,
        "cell_types": ["T cell", "B cell", "NK cell"],
        "where": WHERE,
        "method": method,
        "by": ARM_COLUMN,
    }
    response = api.post("/gene-correlation", json=body)
    assert response.status_code == 200, response.json
    answer = response.json
    x, y = lognorm[counts.genes.index(gene_a)], lognorm[counts.genes.index(gene_b)]
    test = stats.pearsonr if method == "pearson" else stats.spearmanr
    expected = test(x[chosen], y[chosen])
    assert answer["observation_count"] == int(chosen.sum())
    assert answer["correlation"] == pytest.approx(expected[0], rel=1e-6)
    assert answer["p_value"] == pytest.approx(expected[1], rel=1e-6)
    groups = {g["group"]: g for g in answer["groups"]}
    assert set(groups) == {"drug A+B", "placebo (saline)"}
    per_group = {}
    for name, group in groups.items():
        cells = chosen & (counts.groups[ARM_COLUMN] == name)
        r = test(x[cells], y[cells])[0]
        assert group["observation_count"] == int(cells.sum())
        assert group["correlation"] == pytest.approx(r, rel=1e-6)
        per_group[name] = (r, int(cells.sum()))
    (r1, n1), (r2, n2) = per_group["drug A+B"], per_group["placebo (saline)"]
    z = (np.arctanh(r1) - np.arctanh(r2)) / np.sqrt(1 / (n1 - 3) + 1 / (n2 - 3))
    difference = answer["difference"]
    assert difference["test"] == "fisher_z" and difference["groups"] == ["drug A+B", "placebo (saline)"]
    assert difference["z"] == pytest.approx(z, rel=1e-6)
    assert difference["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-6)


def test_correlation_by_a_numeric_column_is_refused(api) -> None:
    body = {"dataset": "counts", "gene_a": "GENE7", "gene_b": "GENE1", "by": "pct_mito"}
    response = api.post("/gene-correlation", json=body)
    assert response.status_code == 400 and response.json["field"] == "by"


def test_gene_pair_with_where(api, counts, lognorm) -> None:
    chosen = counts.where(WHERE)
    gene_a, gene_b = _genes(counts, lognorm, chosen)
    body = {"dataset": "counts", "gene_a": gene_a, "gene_b": gene_b, "where": WHERE}
    answer = api.post("/gene-pair", json=body).json
    assert answer["observation_count"] == int(chosen.sum()) == len(answer["points"]["x"])
    barcodes = np.array(counts.barcodes)[chosen]
    assert sorted(answer["points"]["barcode"]) == sorted(barcodes)
    x = dict(zip(counts.barcodes, lognorm[counts.genes.index(gene_a)], strict=True))
    for barcode, value in zip(answer["points"]["barcode"], answer["points"]["x"], strict=True):
        assert value == pytest.approx(x[barcode], rel=1e-9)


def test_expression_matrix_with_where(api, counts, lognorm) -> None:
    chosen = counts.where(WHERE, ["T cell"])
    genes = _genes(counts, lognorm, chosen, 3)
    body = {"dataset": "counts", "gene_names": genes, "cell_types": ["T cell"], "where": WHERE}
    answer = api.post("/expression-matrix", json={**body, "dense": True, "layer": "lognorm"}).json
    assert len(answer["data"]) == int(chosen.sum()) * len(genes)
    sparse = api.post("/expression-matrix", json={**body, "layer": "lognorm"}).json
    expected = sum(int((lognorm[counts.genes.index(g)][chosen] != 0).sum()) for g in genes)
    assert len(sparse["data"]) == expected


def test_coexpression_with_where(api, counts, lognorm) -> None:
    chosen = counts.where(WHERE)
    [gene] = _genes(counts, lognorm, chosen, 1)
    response = api.get(
        f"/genes/{gene}/coexpression",
        query_string={"dataset": "counts", "where": json.dumps(WHERE), "limit": 5},
    )
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["observation_count"] == int(chosen.sum())
    x = lognorm[counts.genes.index(gene)][chosen]
    for item in answer["results"]:
        y = lognorm[counts.genes.index(item["gene"])][chosen]
        assert item["pearson_correlation"] == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-6)


def test_variability_with_where(api, counts, lognorm) -> None:
    body = {"dataset": "counts", "cell_type": "T cell", "where": WHERE, "limit": 5}
    response = api.post("/gene-variability", json=body)
    assert response.status_code == 200, response.json
    chosen = counts.where(WHERE, ["T cell"])
    values = lognorm[:, chosen]
    mean, sd = values.mean(axis=1), values.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, sd / mean, -np.inf)
    # Genes expressed in one cell share one cv (√n) up to rounding: compare the values, in order.
    top = np.sort(cv)[::-1][:5]
    assert [item["cv"] for item in response.json] == pytest.approx(top, rel=1e-9)
    for item in response.json:
        assert item["cv"] == pytest.approx(cv[counts.genes.index(item["gene"])], rel=1e-6)


def test_dot_plot_with_where_and_compare_by(api, counts, lognorm) -> None:
    query = {
        "dataset": "counts",
        "genes": ["GENE7", "GENE5"],
        "where": json.dumps(WHERE),
        "compare_by": ARM_COLUMN,
    }
    response = api.get("/dot-plot", query_string=query)
    assert response.status_code == 200, response.json
    answer = response.json
    assert answer["compare_by"] == ARM_COLUMN
    chosen = counts.where(WHERE)
    seen = set()
    for row in answer["rows"]:
        cells = (
            chosen
            & (counts.cell_types == row["cell_type"])
            & (counts.groups[ARM_COLUMN] == row["compare_value"])
        )
        values = lognorm[counts.genes.index(row["gene"])][cells]
        assert row["n_cells"] == len(values) > 0
        assert row["mean"] == pytest.approx(values.mean(), rel=1e-9, abs=1e-12)
        assert row["pct_expressing"] == pytest.approx((values != 0).mean())
        seen.add((row["gene"], row["cell_type"], row["compare_value"]))
    pairs = {
        (t, a) for t, a in zip(counts.cell_types[chosen], counts.groups[ARM_COLUMN][chosen], strict=True)
    }
    assert seen == {(g, t, a) for g in ("GENE7", "GENE5") for t, a in pairs}


def test_where_refusals_on_get_endpoints(api) -> None:
    query = {"dataset": "counts", "genes": ["GENE7"], "where": json.dumps({"Subjekt": ["donor0"]})}
    response = api.get("/dot-plot", query_string=query)
    assert response.status_code == 400 and "the columns are" in response.json["error"]
    query = {"dataset": "tenx", "genes": ["GENE7"], "where": json.dumps({"cell_type": ["unannotated"]})}
    response = api.get("/dot-plot", query_string={**query, "genes": ["LINC00667"]})
    assert response.status_code in (400, 404)


# ----- the gateway's cell masks (correlation's `where` path) select the cells the SQL predicate selects -----

WHERE_ADAPTER: TypeAdapter = TypeAdapter(Where)
MASKED_SELECTIONS = [
    ([], WHERE),
    (["T cell", "B cell"], {ARM_COLUMN: ["placebo (saline)"]}),
    ([], {"pct_mito": {"min": 2.5}}),
    ([], {"pct_mito": {"max": 2.5}}),
    ([], {"pct_mito": {}}),  # every cell with a value (the one without is left out)
    ([], {"Subject": ["donor1", "donor2"], "sample": ["donor1"]}),
    (["unannotated"], {}),
    ([], {"cell_type": ["NK cell", "Megakaryocyte"], "n_counts": {"min": 0.0, "max": 1e9}}),
]


@pytest.mark.parametrize(("cell_types", "where"), MASKED_SELECTIONS)
def test_cell_masks_select_what_the_sql_predicate_selects(gateway_app, cell_types, where) -> None:
    from gateway.analyses.cell_masks import selection_mask
    from gateway.analyses.cells import select_cells

    state = get_gateway(gateway_app)
    catalog = state.catalog.dataset("counts")
    for excluded in ((), ("B cell",)):
        selection = select_cells(state.pool, catalog, cell_types, WHERE_ADAPTER.validate_python(where))
        selection = dataclasses.replace(selection, excluded_cell_types=excluded)
        predicate, params = selection.predicate("sel")
        rows = state.pool.fetch(
            f"SELECT cell FROM marts.cells WHERE dataset = {{dataset:String}} AND {predicate}",
            {"dataset": "counts", **params},
        )
        mask = selection_mask(state.pool, catalog, selection)
        assert sorted(np.flatnonzero(mask)) == sorted(row["cell"] for row in rows)


def test_correlation_by_a_column_some_cells_lack_puts_them_in_the_empty_group(api) -> None:
    body = {"dataset": "counts", "gene_a": "GENE7", "gene_b": "GENE3", "by": ARM_COLUMN}
    pearson = api.post("/gene-correlation", json=body).json
    spearman = api.post("/gene-correlation", json={**body, "method": "spearman"}).json
    sizes = {g["group"]: g["observation_count"] for g in pearson["groups"]}
    assert sizes == {g["group"]: g["observation_count"] for g in spearman["groups"]}
    assert sizes[""] == 8 and sum(sizes.values()) == pearson["observation_count"]
