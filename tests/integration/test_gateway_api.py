"""Every gateway endpoint against numpy/scipy on the dense pbmc matrix (zeros included), plus its errors."""

from __future__ import annotations

import io
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest
from scipy import stats

pytestmark = pytest.mark.studies("pbmc", "tenx", "counts")

TREG = "CD4+/CD25 T Reg"
MONO = ["CD14+ Monocyte", "Dendritic"]
PAIRS = [
    ("CD74", "HLA-DRA", MONO),
    ("CD3D", "CD52", [TREG]),
    ("NKG7", "GNLY", []),
    ("FCER1A", "CST3", ["Dendritic"]),
]


def close(actual: float, expected: float) -> bool:
    return bool(np.isclose(actual, expected, rtol=1e-6, atol=1e-12))


def post(api, path: str, body: dict, **kwargs):
    return api.post(path, json=body, **kwargs)


# ----- correlation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("gene_a", "gene_b", "cell_types"), PAIRS)
def test_pearson_matches_scipy_over_every_cell(api, pbmc_dense, gene_a, gene_b, cell_types) -> None:
    body = {"gene_a": gene_a, "gene_b": gene_b, "cell_types": cell_types, "dataset": "pbmc"}
    response = post(api, "/gene-correlation", body)
    assert response.status_code == 200, response.get_json()
    got = response.get_json()
    cells = pbmc_dense.cells_of(cell_types)
    x, y = pbmc_dense.gene_row(gene_a)[cells], pbmc_dense.gene_row(gene_b)[cells]
    expected = stats.pearsonr(x, y)
    assert got["observation_count"] == cells.sum()
    assert close(got["pearson_correlation"], expected.statistic)
    assert close(got["p_value"], expected.pvalue)
    assert got["n_expressing_a"] == (x != 0).sum() and got["n_expressing_b"] == (y != 0).sum()
    assert got["n_expressing_both"] == ((x != 0) & (y != 0)).sum()
    assert got["gene_a"] == gene_a and got["cell_types"] == cell_types and got["dataset"] == "pbmc"


@pytest.mark.parametrize(("gene_a", "gene_b", "cell_types"), PAIRS)
def test_spearman_matches_scipy_with_ties_and_zeros(api, pbmc_dense, gene_a, gene_b, cell_types) -> None:
    body = {"gene_a": gene_a, "gene_b": gene_b, "cell_types": cell_types, "dataset": "pbmc"}
    body["method"] = "spearman"
    got = post(api, "/gene-correlation", body).get_json()
    cells = pbmc_dense.cells_of(cell_types)
    expected = stats.spearmanr(pbmc_dense.gene_row(gene_a)[cells], pbmc_dense.gene_row(gene_b)[cells])
    assert got["method"] == "spearman"
    assert close(got["correlation"], expected.statistic)
    # Issue 22: a Spearman ρ never arrives under the seed's Pearson name.
    assert "pearson_correlation" not in got
    assert close(got["p_value"], expected.pvalue)


@pytest.mark.parametrize("method", ["pearson", "spearman"])
@pytest.mark.parametrize("by", ["cell_type", "sample"])
def test_breakdown_by_group(api, pbmc_dense, method, by) -> None:
    cell_types = [*MONO, TREG]
    body = {
        "gene_a": "CD74",
        "gene_b": "HLA-DRA",
        "cell_types": cell_types,
        "dataset": "pbmc",
        "method": method,
        "by": by,
    }
    got = post(api, "/gene-correlation", body).get_json()
    selected = pbmc_dense.cells_of(cell_types)
    labels = pbmc_dense.cell_types if by == "cell_type" else pbmc_dense.samples
    reference = stats.pearsonr if method == "pearson" else stats.spearmanr
    groups = {g["group"]: g for g in got["groups"]}
    assert sorted(groups) == sorted(set(labels[selected]))
    for name, group in groups.items():
        cells = selected & (labels == name)
        expected = reference(pbmc_dense.gene_row("CD74")[cells], pbmc_dense.gene_row("HLA-DRA")[cells])
        assert group["observation_count"] == cells.sum()
        assert close(group["correlation"], expected.statistic), name
        assert ("pearson_correlation" in group) == (method == "pearson")
        assert close(group["p_value"], expected.pvalue), name
    overall = reference(pbmc_dense.gene_row("CD74")[selected], pbmc_dense.gene_row("HLA-DRA")[selected])
    assert close(got["correlation"], overall.statistic)
    if method == "pearson":
        assert got["pearson_correlation"] == got["correlation"]


def test_zero_variance_gives_null_with_a_note(api, pbmc_dense) -> None:
    # A gene with no stored value in a cell type is constant (all zeros) there.
    cells = pbmc_dense.cells_of(["CD34+"])
    silent = next(g for g in pbmc_dense.genes if not pbmc_dense.gene_row(g)[cells].any())
    body = {"gene_a": silent, "gene_b": "CD74", "cell_types": ["CD34+"], "dataset": "pbmc"}
    got = post(api, "/gene-correlation", body).get_json()
    assert got["pearson_correlation"] is None and got["p_value"] is None
    assert silent in got["note"] and "zero variance" in got["note"]
    assert got["observation_count"] == cells.sum() and got["n_expressing_a"] == 0


def test_gene_id_and_gene_with_itself(api) -> None:
    got = post(api, "/gene-correlation", {"gene_a": "CD74", "gene_b": "CD74", "dataset": "pbmc"}).get_json()
    assert close(got["pearson_correlation"], 1.0)


# ----- variability, dot plot, genes, datasets -----------------------------------------------------


def test_variability_matches_numpy(api, pbmc_dense) -> None:
    got = post(api, "/gene-variability", {"cell_type": TREG, "limit": 25, "dataset": "pbmc"}).get_json()
    cells = pbmc_dense.cells_of([TREG])
    matrix = pbmc_dense.matrix[:, cells]
    mean, sd = matrix.mean(axis=1), matrix.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean != 0, sd / mean, np.nan)
    top = np.sort(cv[mean != 0])[::-1][:25]
    assert len(got) == 25
    # Many genes tie on cv (one expressing cell gives cv = √n), so compare the ranked values, then each gene.
    assert np.allclose([g["cv"] for g in got], top, rtol=1e-6)
    for item in got:
        i = pbmc_dense.genes.index(item["gene"])
        assert close(item["cv"], cv[i])
        assert close(item["mean_expression"], mean[i]) and close(item["stddev"], sd[i])
        assert close(item["pct_expressing"], (matrix[i] != 0).mean())


def test_variability_filters(api) -> None:
    body = {"cell_type": TREG, "limit": 1000, "dataset": "pbmc", "min_mean": 0.5, "min_pct_expressing": 0.4}
    got = post(api, "/gene-variability", body).get_json()
    assert got and all(g["mean_expression"] >= 0.5 and g["pct_expressing"] >= 0.4 for g in got)
    assert len(post(api, "/gene-variability", {"cell_type": TREG, "dataset": "pbmc"}).get_json()) == 10


def test_dot_plot_data(api, pbmc_dense) -> None:
    got = api.get("/genes/CD74/cell-types?dataset=pbmc").get_json()
    assert got["gene"] == "CD74"
    rows = {r["cell_type"]: r for r in got["cell_types"]}
    assert sorted(rows) == sorted(set(pbmc_dense.cell_types))
    for name, row in rows.items():
        x = pbmc_dense.gene_row("CD74")[pbmc_dense.cells_of([name])]
        assert close(row["mean"], x.mean()) and close(row["pct_expressing"], (x != 0).mean())
        expressing = x[x != 0]
        if expressing.size:
            assert close(row["mean_expressing"], expressing.mean())
        else:
            assert row["mean_expressing"] is None


def test_genes_by_prefix(api, pbmc_dense) -> None:
    got = api.get("/genes?prefix=hla-d&dataset=pbmc&limit=4").get_json()
    # Issue 22: the prefix family ranks shorter names first (HLA-DRA before HLA-DPA1), then by name.
    expected = sorted(
        (g for g in pbmc_dense.genes if g.lower().startswith("hla-d")), key=lambda g: (len(g), g)
    )
    assert [g["gene"] for g in got["genes"]] == expected[:4]
    first = got["genes"][0]
    assert first["n_cells_expressing"] == (pbmc_dense.gene_row(first["gene"]) != 0).sum()


def test_datasets_and_cell_types(api, pbmc_dense) -> None:
    names = [d["dataset"] for d in api.get("/datasets").get_json()["datasets"]]
    assert {"pbmc", "tenx"} <= set(names)
    got = api.get("/datasets/pbmc/cell-types").get_json()
    counts = {c["cell_type"]: c["n_cells"] for c in got["cell_types"]}
    labels, n = np.unique(pbmc_dense.cell_types, return_counts=True)
    assert counts == dict(zip(labels.tolist(), n.tolist(), strict=True))


def test_health(api) -> None:
    got = api.get("/health")
    assert got.status_code == 200
    body = got.get_json()
    assert body["status"] == "ok" and body["engine"] == "embedded" and "pbmc" in body["datasets"]


# ----- co-expression and markers ------------------------------------------------------------------


@pytest.mark.parametrize(("gene", "cell_types"), [("CD74", ["Dendritic"]), ("NKG7", ["CD56+ NK", TREG])])
def test_coexpression_top_k_is_numpys(api, pbmc_dense, gene, cell_types) -> None:
    query = "&".join(f"cell_types={quote(c)}" for c in cell_types)
    got = api.get(f"/genes/{gene}/coexpression?dataset=pbmc&limit=15&{query}").get_json()
    cells = pbmc_dense.cells_of(cell_types)
    matrix = pbmc_dense.matrix[:, cells]
    x = pbmc_dense.gene_row(gene)[cells]
    scores = []
    for i, other in enumerate(pbmc_dense.genes):
        y = matrix[i]
        if other == gene or np.all(y == y[0]):
            continue
        scores.append((-stats.pearsonr(x, y).statistic, other))
    expected = sorted(scores)[:15]
    assert got["observation_count"] == cells.sum() and got["cell_types"] == cell_types
    assert [r["gene"] for r in got["results"]] == [g for _, g in expected]
    for result, (neg_r, other) in zip(got["results"], expected, strict=True):
        assert close(result["pearson_correlation"], -neg_r)
        reference = stats.pearsonr(x, matrix[pbmc_dense.genes.index(other)])
        assert close(result["p_value"], reference.pvalue)
        assert result["n_expressing"] == (matrix[pbmc_dense.genes.index(other)] != 0).sum()


def test_markers_match_scipy_welch(api, pbmc_dense) -> None:
    got = api.get(f"/cell-types/{quote(TREG, safe='')}/markers?dataset=pbmc&limit=765").get_json()
    assert got["cell_type"] == TREG
    inside = pbmc_dense.cells_of([TREG])
    results = got["results"]
    t_values = [r["t_statistic"] for r in results if r["t_statistic"] is not None]
    assert t_values == sorted(t_values, reverse=True)
    p_all = []
    for r in results:
        row = pbmc_dense.gene_row(r["gene"])
        a, b = row[inside], row[~inside]
        reference = stats.ttest_ind_from_stats(
            a.mean(), a.std(ddof=1), a.size, b.mean(), b.std(ddof=1), b.size, equal_var=False
        )
        if np.isnan(reference.statistic):
            assert r["t_statistic"] is None and r["p_value"] is None
            continue
        assert close(r["t_statistic"], reference.statistic), r["gene"]
        assert close(r["p_value"], reference.pvalue), r["gene"]
        assert close(r["mean_in"], a.mean()) and close(r["pct_out"], (b != 0).mean())
        p_all.append((r["p_value_adj"], reference.pvalue))
    adjusted = stats.false_discovery_control([p for _, p in p_all])
    assert np.allclose([a for a, _ in p_all], adjusted, rtol=1e-6)
    top = api.get(f"/cell-types/{quote(TREG, safe='')}/markers?dataset=pbmc").get_json()["results"]
    assert [r["gene"] for r in top] == [r["gene"] for r in results[:20]]


# ----- expression matrix --------------------------------------------------------------------------


def _frame(response) -> pd.DataFrame:
    kind = response.mimetype
    if kind == "application/json":
        return pd.read_json(io.BytesIO(response.data), orient="split", dtype={"sample": str})
    if kind == "text/csv":
        return pd.read_csv(io.BytesIO(response.data), keep_default_na=False)
    if kind == "application/vnd.apache.arrow.stream":
        return pa.ipc.open_stream(response.data).read_all().to_pandas()
    return pq.read_table(io.BytesIO(response.data)).to_pandas()


def _expected(pbmc_dense, genes: list[str], cell_types: list[str], dense: bool) -> set[tuple]:
    cells = np.flatnonzero(pbmc_dense.cells_of(cell_types))
    return {
        (pbmc_dense.barcodes[j], pbmc_dense.cell_types[j], pbmc_dense.samples[j], g, round(value, 9))
        for g in genes
        for j in cells
        if (value := float(pbmc_dense.gene_row(g)[j])) != 0 or dense
    }


@pytest.mark.parametrize(
    "accept",
    ["application/json", "text/csv", "application/vnd.apache.arrow.stream", "application/vnd.apache.parquet"],
)
@pytest.mark.parametrize("dense", [False, True])
def test_expression_matrix_formats(api, pbmc_dense, accept, dense) -> None:
    genes, cell_types = ["CD74", "HLA-DRA", "GNLY"], [TREG, "Dendritic"]
    body = {"gene_names": genes, "cell_types": cell_types, "dataset": "pbmc", "dense": dense}
    response = post(api, "/expression-matrix", body, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == accept
    frame = _frame(response)
    assert list(frame.columns) == ["barcode", "cell_type", "sample", "gene", "value"]
    rows = {(b, c, str(s), g, round(float(v), 9)) for b, c, s, g, v in frame.itertuples(index=False)}
    assert len(frame) == len(rows)
    assert rows == _expected(pbmc_dense, genes, cell_types, dense)


def test_expression_matrix_layers_on_counts(api) -> None:
    body = {"gene_names": ["GENE7"], "dataset": "counts", "layer": "lognorm"}
    lognorm = _frame(post(api, "/expression-matrix", body))
    raw = _frame(post(api, "/expression-matrix", {**body, "layer": "value"}))
    assert len(lognorm) == len(raw) > 0
    assert (raw["value"] == raw["value"].round()).all() and not (lognorm["value"] == raw["value"]).all()


# ----- errors -------------------------------------------------------------------------------------


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.data
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["error"], str) and "\n" not in body["error"] and "Traceback" not in body["error"]
    return body


def test_malformed_requests_are_400_naming_the_field(api) -> None:
    body = _error(api.post("/gene-correlation", data="{not json", content_type="application/json"), 400)
    assert "not valid JSON" in body["error"]
    assert _error(post(api, "/gene-correlation", {"gene_a": "CD74"}), 400)["field"] == "gene_b"
    assert _error(post(api, "/gene-correlation", {"gene_a": "CD74", "gene_b": 3}), 400)["field"] == "gene_b"
    body = _error(post(api, "/gene-correlation", {"gene_a": "CD74", "gene_b": "X", "celltypes": []}), 400)
    assert body["field"] == "celltypes" and "unknown field" in body["error"]
    assert _error(post(api, "/gene-variability", {"cell_type": TREG, "limit": 0}), 400)["field"] == "limit"
    assert _error(post(api, "/gene-variability", {"cell_type": TREG, "limit": 1001}), 400)["field"] == "limit"
    assert _error(api.get("/genes?limit=many&dataset=pbmc"), 400)["field"] == "limit"
    assert _error(api.post("/gene-correlation", json=[1, 2]), 400)["field"] == "body"
    body = {"gene_a": "CD74", "gene_b": "HLA-DRA", "dataset": "pbmc", "method": "kendall"}
    assert _error(post(api, "/gene-correlation", body), 400)["field"] == "method"


def test_dataset_must_be_named_when_several_are_loaded(api) -> None:
    body = _error(post(api, "/gene-correlation", {"gene_a": "CD74", "gene_b": "HLA-DRA"}), 400)
    assert body["field"] == "dataset" and {"pbmc", "tenx"} <= set(body["datasets"])


def test_unknown_names_are_404_with_suggestions(api) -> None:
    request = {"gene_a": "CD74", "gene_b": "HLA-DRX", "dataset": "pbmc"}
    body = _error(post(api, "/gene-correlation", request), 404)
    assert "HLA-DRA" in body["suggestions"] and body["field"] == "gene_b"
    body = _error(post(api, "/gene-variability", {"cell_type": "CD4+/CD25 T reg", "dataset": "pbmc"}), 404)
    assert body["suggestions"][0] == TREG
    body = _error(post(api, "/gene-variability", {"cell_type": TREG, "dataset": "pbmcc"}), 404)
    assert "pbmc" in body["suggestions"]
    _error(api.get("/genes/NOTAGENE/cell-types?dataset=pbmc"), 404)
    _error(api.get("/cell-types/Neuron/markers?dataset=pbmc"), 404)
    _error(api.get("/datasets/nope/cell-types"), 404)
    _error(api.get("/no-such-endpoint"), 404)
    _error(api.get("/gene-correlation"), 405)


def test_injection_is_just_an_unknown_gene(api, engine_client) -> None:
    before = engine_client.query("SELECT count() FROM marts.gene_stats").result_rows[0][0]
    evil = "x'); DROP TABLE marts.gene_stats; --"
    body = _error(post(api, "/gene-correlation", {"gene_a": evil, "gene_b": "CD74", "dataset": "pbmc"}), 404)
    assert "unknown gene" in body["error"]
    _error(api.get(f"/genes/{quote(evil, safe='')}/coexpression?dataset=pbmc"), 404)
    assert api.get(f"/genes?prefix={quote(evil)}&dataset=pbmc").get_json()["genes"] == []
    assert engine_client.query("SELECT count() FROM marts.gene_stats").result_rows[0][0] == before


def test_oversized_requests_are_413(api) -> None:
    huge = b"{" + b" " * 2_000_000 + b"}"
    _error(api.post("/gene-correlation", data=huge, content_type="application/json"), 413)
    genes = [f"G{i}" for i in range(501)]
    body = _error(post(api, "/expression-matrix", {"gene_names": genes, "dataset": "pbmc"}), 413)
    assert body["field"] == "gene_names"


def test_unacceptable_format_is_406(api) -> None:
    body = {"gene_names": ["CD74"], "dataset": "pbmc"}
    _error(post(api, "/expression-matrix", body, headers={"Accept": "image/png"}), 406)


def test_names_with_slashes_plus_and_spaces_in_paths(api) -> None:
    direct = api.get("/cell-types/CD4+/CD25 T Reg/markers?dataset=pbmc&limit=3")
    encoded = api.get(f"/cell-types/{quote(TREG, safe='')}/markers?dataset=pbmc&limit=3")
    assert direct.status_code == encoded.status_code == 200
    assert direct.get_json() == encoded.get_json()
    assert api.get("/genes/HLA-DRB1/coexpression?dataset=pbmc&limit=2").status_code == 200


def test_store_locked_by_another_process_is_503(tmp_path) -> None:
    import subprocess
    import sys

    from gateway import GatewayConfig, create_app
    from genostream.config import EngineSettings

    store = tmp_path / "held"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from genostream.engine import open_chdb; c = open_chdb(sys.argv[1]); "
            "print('ready', flush=True); sys.stdin.read()",
            str(store),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        app = create_app(GatewayConfig(engine=EngineSettings(chdb_path=str(store)), catalog_ttl_s=0))
        client = app.test_client()
        body = _error(client.post("/gene-variability", json={"cell_type": "x"}), 503)
        assert "in use by another process" in body["error"]
        health = client.get("/health")
        assert health.status_code == 503 and health.get_json()["status"] == "unavailable"
    finally:
        holder.communicate("", timeout=30)
