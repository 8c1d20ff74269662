"""Gateway parts that need no store: the statistics from sums, name resolution, formats, config, OpenAPI."""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
import pytest
from scipy import stats
from werkzeug.datastructures import MIMEAccept

from gateway.analyses.stats import (
    PairSums,
    RankParts,
    benjamini_hochberg,
    pearson_p_value,
    pearson_p_values,
    spearman_p_value,
    welch_p_values,
)
from gateway.catalog import resolve_dataset_name
from gateway.config import GatewayConfig
from gateway.errors import BadRequest, NotAcceptable, NotFound, close_matches
from gateway.http.formats import negotiate, write_batches
from gateway.sqlguard.guard import check_tree, parse_ast_dump


def _sparse_vector(rng: np.random.Generator, n: int, density: float, *, negatives: bool) -> np.ndarray:
    values = rng.choice([0.5, 1.0, 1.5, 2.0, 3.25], size=n)  # few distinct values: many ties
    if negatives:
        values = values * rng.choice([-1.0, 1.0], size=n)
    return np.where(rng.random(n) < density, values, 0.0)


def _rank_parts(x: np.ndarray, y: np.ndarray) -> RankParts:
    """The sparse parts the SQL computes, here from numpy (ranks over all cells, ties averaged)."""
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    hx, hy = x != 0, y != 0
    both = hx & hy
    return RankParts(
        n=len(x),
        nx=int(hx.sum()),
        ny=int(hy.sum()),
        nb=int(both.sum()),
        negx=int((x < 0).sum()),
        negy=int((y < 0).sum()),
        rx_sum=rx[hx].sum(),
        rxx_sum=(rx[hx] ** 2).sum(),
        ry_sum=ry[hy].sum(),
        ryy_sum=(ry[hy] ** 2).sum(),
        both_rxy=(rx[both] * ry[both]).sum(),
        both_rx=rx[both].sum(),
        both_ry=ry[both].sum(),
    )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("negatives", [False, True])
def test_spearman_from_sparse_parts_matches_scipy(seed: int, negatives: bool) -> None:
    rng = np.random.default_rng(seed)
    x = _sparse_vector(rng, 200, 0.3, negatives=negatives)
    y = _sparse_vector(rng, 200, 0.5, negatives=negatives)
    parts = _rank_parts(x, y)
    # The zero block's shared rank is what the SQL assumes.
    assert parts.zero_rank_x() == pytest.approx(stats.rankdata(x)[x == 0][0])
    rho = parts.sums().correlation()
    expected = stats.spearmanr(x, y)
    assert rho == pytest.approx(expected.statistic, rel=1e-9)
    assert spearman_p_value(rho, len(x)) == pytest.approx(expected.pvalue, rel=1e-6)


def test_pearson_from_sums_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    x = _sparse_vector(rng, 300, 0.4, negatives=False) + rng.random(300) * (rng.random(300) < 0.2)
    y = 0.6 * x + _sparse_vector(rng, 300, 0.4, negatives=False)
    sums = PairSums(len(x), x.sum(), (x * x).sum(), y.sum(), (y * y).sum(), (x * y).sum())
    expected = stats.pearsonr(x, y)
    r = sums.correlation()
    assert r == pytest.approx(expected.statistic, rel=1e-9)
    assert pearson_p_value(r, len(x)) == pytest.approx(expected.pvalue, rel=1e-6)
    many = pearson_p_values(np.array([r, -r, 0.0]), len(x))
    assert many == pytest.approx([expected.pvalue, expected.pvalue, 1.0], rel=1e-9)


@pytest.mark.parametrize("n", [3, 4, 10, 57, 1_000, 60_000])
def test_p_values_equal_scipy_distributions_over_the_whole_range(n: int) -> None:
    # The closed forms against scipy.stats' own distributions, far into both tails.
    r = np.array([-1.0, -0.999, -0.5, -1e-3, 0.0, 1e-9, 0.02, 0.3, 0.9, 1.0])
    beta = stats.beta(n / 2 - 1, n / 2 - 1, loc=-1, scale=2)
    expected = np.minimum(1.0, 2.0 * np.minimum(beta.cdf(r), beta.sf(r)))
    np.testing.assert_allclose(pearson_p_values(r, n), expected, rtol=1e-9, atol=1e-300)
    t_dist = stats.t(n - 2)
    for rho in r:
        t = np.inf if abs(rho) >= 1 else rho * np.sqrt((n - 2) / ((rho + 1.0) * (1.0 - rho)))
        want = min(1.0, 2.0 * min(t_dist.cdf(t), t_dist.sf(t)))
        assert spearman_p_value(float(rho), n) == pytest.approx(want, rel=1e-9, abs=1e-300)


def test_constant_vectors_have_no_correlation() -> None:
    ones = np.full(10, 2.5)
    other = np.arange(10.0)
    sums = PairSums(10, ones.sum(), (ones**2).sum(), other.sum(), (other**2).sum(), (ones * other).sum())
    assert sums.correlation() is None
    assert pearson_p_value(None, 10) is None
    assert pearson_p_value(1.0, 2) == 1.0  # as scipy: two points always correlate perfectly


def test_welch_p_values_and_bh_match_scipy() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.normal(1.0, 1.0, 40), rng.normal(0.6, 2.0, 55)
    reference = stats.ttest_ind(a, b, equal_var=False)
    se2a, se2b = a.var(ddof=1) / 40, b.var(ddof=1) / 55
    df = (se2a + se2b) ** 2 / (se2a**2 / 39 + se2b**2 / 54)
    p_value = welch_p_values(np.array([reference.statistic]), np.array([df]))[0]
    assert p_value == pytest.approx(reference.pvalue)
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.5])
    adjusted = benjamini_hochberg(p)
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2, 3, 4]], stats.false_discovery_control(p[[0, 2, 3, 4]]))


def test_dataset_resolution() -> None:
    assert resolve_dataset_name(None, ["only"]) == "only"
    assert resolve_dataset_name("b", ["a", "b"]) == "b"
    with pytest.raises(BadRequest, match=r"dataset: required because 2 datasets are loaded \(a, b\)"):
        resolve_dataset_name(None, ["b", "a"])
    with pytest.raises(NotFound, match="did you mean 'pbmc'"):
        resolve_dataset_name("PBMC", ["pbmc", "tenx"])
    with pytest.raises(NotFound, match="no dataset is loaded"):
        resolve_dataset_name(None, [])


def test_close_matches_folds_case_and_prefixes() -> None:
    names = ["HLA-DRA", "HLA-DRB1", "CD74", "CD4+/CD25 T Reg"]
    assert close_matches("hla-dra", names)[0] == "HLA-DRA"
    assert "CD4+/CD25 T Reg" in close_matches("CD4+", names)
    assert close_matches("zzzz", names) == []


def test_negotiation() -> None:
    formats = ("json", "csv", "arrow", "parquet")
    assert negotiate(MIMEAccept(), formats) == "json"
    assert negotiate(MIMEAccept([("*/*", 1)]), formats) == "json"
    assert negotiate(MIMEAccept([("text/csv", 1)]), formats) == "csv"
    assert negotiate(MIMEAccept([("application/x-parquet", 1)]), formats) == "parquet"
    assert negotiate(MIMEAccept([("text/csv", 1)]), formats, "arrow") == "arrow"
    with pytest.raises(NotAcceptable):
        negotiate(MIMEAccept([("image/png", 1)]), formats)


def _batches() -> tuple[pa.Schema, list[pa.RecordBatch]]:
    schema = pa.schema([("gene", pa.string()), ("value", pa.float64())])
    batches = [
        pa.RecordBatch.from_pydict({"gene": ["A", "B"], "value": [1.0, float("nan")]}, schema=schema),
        pa.RecordBatch.from_pydict({"gene": [], "value": []}, schema=schema),
        pa.RecordBatch.from_pydict({"gene": ["C"], "value": [3.5]}, schema=schema),
    ]
    return schema, batches


def test_every_format_round_trips() -> None:
    import pandas as pd

    schema, batches = _batches()
    as_json = b"".join(write_batches("json", schema, batches))
    frame = pd.read_json(io.BytesIO(as_json), orient="split")
    assert list(frame["gene"]) == ["A", "B", "C"] and frame["value"].isna().tolist() == [False, True, False]
    as_csv = b"".join(write_batches("csv", schema, batches)).decode()
    assert as_csv.splitlines()[0] == '"gene","value"' and len(as_csv.splitlines()) == 4
    table = pa.ipc.open_stream(b"".join(write_batches("arrow", schema, batches))).read_all()
    assert table.column("gene").to_pylist() == ["A", "B", "C"]
    parquet = pq.read_table(io.BytesIO(b"".join(write_batches("parquet", schema, batches))))
    assert parquet.column("value").to_pylist()[2] == 3.5


def test_csv_text_cells_are_formula_safe_and_other_formats_exact() -> None:
    schema = pa.schema([("name", pa.string()), ("number_text", pa.string()), ("x", pa.float64())])
    names = ["=1+2", "+a", "-b", "@c", "\td", "\re", "f=g", None, ""]
    batch = pa.RecordBatch.from_arrays(
        [pa.array(names), pa.array(["-1.5"] * len(names)), pa.array([-1.0] * len(names))], schema=schema
    )
    as_csv = b"".join(write_batches("csv", schema, [batch], text_columns=[0])).decode()
    rows = list(csv.reader(io.StringIO(as_csv)))
    assert [r[0] for r in rows[1:]] == ["'=1+2", "'+a", "'-b", "'@c", "'\td", "'\re", "f=g", "", ""]
    assert {r[1] for r in rows[1:]} == {"-1.5"} and {r[2] for r in rows[1:]} == {"-1"}
    every_text = b"".join(write_batches("csv", schema, [batch])).decode()
    assert {r[1] for r in list(csv.reader(io.StringIO(every_text)))[1:]} == {"'-1.5"}
    arrow = pa.ipc.open_stream(b"".join(write_batches("arrow", schema, [batch]))).read_all()
    assert arrow.column("name").to_pylist() == names


DUMP_OUTFILE = """SelectWithUnionQuery (children 3)
 ExpressionList (children 1)
  SelectQuery (children 1)
   ExpressionList (children 1)
    Literal UInt64_1
 Literal '/tmp/x'
 Identifier Native"""

DUMP_TABLES = """SelectWithUnionQuery (children 2)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
    Asterisk
   TablesInSelectQuery (children 2)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
      TableIdentifier {table} (alias q)
    TablesInSelectQueryElement (children 2)
     TableExpression (children 1)
      Function {function} (alias r) (children 1)
       ExpressionList (children 1)
        Literal UInt64_10
     TableJoin (children 1)
      Literal UInt64_1
 Identifier Native"""


def _tables(table: str, function: str):
    return parse_ast_dump(DUMP_TABLES.format(table=table, function=function).splitlines())


def test_ast_checks() -> None:
    with pytest.raises(BadRequest, match="INTO OUTFILE"):
        check_tree(parse_ast_dump(DUMP_OUTFILE.splitlines()), "SELECT 1 INTO OUTFILE '/tmp/x'")
    check_tree(_tables("marts.genes", "numbers"), "SELECT")
    check_tree(_tables("cte", "numbers"), "SELECT")
    with pytest.raises(BadRequest, match="table function remote"):
        check_tree(_tables("marts.genes", "remote"), "")
    with pytest.raises(BadRequest, match="outside the marts"):
        check_tree(_tables("raw.matrix", "numbers"), "")
    with pytest.raises(BadRequest, match="not DROP"):
        check_tree(parse_ast_dump(["DropQuery  marts.genes"]), "DROP TABLE marts.genes")


def test_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENOSTREAM_GATEWAY_SQL_MAX_ROWS", "42")
    assert GatewayConfig.from_env().sql_max_rows == 42
    assert GatewayConfig.from_env({"sql_max_rows": 7}).sql_max_rows == 7
    monkeypatch.setenv("GENOSTREAM_GATEWAY_QUERY_TIMEOUT_S", "soon")
    with pytest.raises(ValueError, match="gateway setting query_timeout_s"):
        GatewayConfig.from_env()


def test_openapi_document_covers_every_route() -> None:
    from gateway import create_app

    app = create_app({"catalog_ttl_s": 0.0})
    document = app.test_client().get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path, method in [
        ("/gene-correlation", "post"),
        ("/gene-variability", "post"),
        ("/expression-matrix", "post"),
        ("/health", "get"),
        ("/datasets", "get"),
        ("/datasets/{dataset}/cell-types", "get"),
        ("/genes", "get"),
        ("/genes/{gene}/cell-types", "get"),
        ("/genes/{gene}/coexpression", "get"),
        ("/cell-types/{cell_type}/markers", "get"),
        ("/sql", "post"),
        ("/dot-plot", "get"),
        ("/gene-pair", "post"),
    ]:
        assert method in paths[path], path
    body = paths["/gene-correlation"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    schema = document["components"]["schemas"][body["$ref"].split("/")[-1]]
    assert set(schema["required"]) == {"gene_a", "gene_b"}
    assert {"pearson_correlation", "observation_count"} <= set(
        document["components"]["schemas"]["GeneCorrelationResponse"]["properties"]
    )
    params = {p["name"]: p for p in paths["/genes/{gene}/coexpression"]["get"]["parameters"]}
    assert params["cell_types"]["explode"] is True and params["gene"]["in"] == "path"
    dot_params = {p["name"]: p for p in paths["/dot-plot"]["get"]["parameters"]}
    assert dot_params["genes"]["required"] is True and dot_params["genes"]["explode"] is True


# ----- per-dataset precomputation: group sizes, ranked markers and variability ------------------------------


def _catalog(group_sizes: dict[tuple[str, str], int]):
    from gateway.catalog import DatasetCatalog, DatasetInfo

    info = DatasetInfo("d", "counts", n_genes=2, n_cells=sum(group_sizes.values()), nnz=0, loaded_at="")
    return DatasetCatalog(info, cell_types={}, samples={}, genes=["g1", "g2"], group_sizes=group_sizes)


def test_group_sizes_follow_the_selection_and_the_breakdown() -> None:
    catalog = _catalog({("B", "s1"): 3, ("B", "s2"): 4, ("T", "s1"): 5, ("NK", "s2"): 1})
    assert catalog.sizes([], None) == {"": 13}
    assert catalog.sizes(["B", "T"], None) == {"": 12}
    assert catalog.sizes(["B", "T"], "cell_type") == {"B": 7, "T": 5}
    assert catalog.sizes(["B", "NK"], "sample") == {"s1": 3, "s2": 5}
    assert catalog.sizes([], "sample") == {"s1": 8, "s2": 5}


def test_memo_computes_once_per_key() -> None:
    catalog = _catalog({("B", "s1"): 1})
    calls: list[str] = []

    def compute(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert catalog.memo(("x", "a"), lambda: compute("a")) == "A"
    assert catalog.memo(("x", "a"), lambda: compute("a")) == "A"
    assert catalog.memo(("x", "b"), lambda: compute("b")) == "B"
    assert calls == ["a", "b"]


def test_ranked_markers_put_highest_t_first_undefined_last_and_slice_exactly() -> None:
    from gateway.analyses.markers import COLUMNS, RankedMarkers

    genes = np.array(["c", "a", "b", "d"], dtype=object)
    t = np.array([1.0, np.nan, 1.0, 5.0])
    order = np.lexsort((genes, np.where(np.isnan(t), 0.0, -t), np.isnan(t)))
    assert [genes[i] for i in order] == ["d", "b", "c", "a"]  # ties on t broken by name, NaN last
    values = {name: np.arange(4, dtype=float) for name in COLUMNS}
    values["t_statistic"] = np.array([5.0, 1.0, 1.0, np.nan])
    ranked = RankedMarkers(genes=["d", "b", "c", "a"], values=values)
    top = ranked.top(2)
    assert [item["gene"] for item in top] == ["d", "b"]
    assert top[0]["t_statistic"] == 5.0 and ranked.top(4)[3]["t_statistic"] is None


def test_ranked_variability_filters_then_limits_in_cv_order() -> None:
    from gateway.analyses.variability import RankedVariability

    ranked = RankedVariability(
        genes=["a", "b", "c", "d"],
        mean=np.array([0.1, 2.0, 0.5, 3.0]),
        stddev=np.array([1.0, 2.0, 0.4, 1.0]),
        cv=np.array([10.0, 1.0, 0.8, 0.33]),
        pct_expressing=np.array([0.01, 0.5, 0.9, 0.2]),
    )
    assert [r["gene"] for r in ranked.top(2, None, None)] == ["a", "b"]
    assert [r["gene"] for r in ranked.top(10, 0.4, None)] == ["b", "c", "d"]
    assert [r["gene"] for r in ranked.top(10, 0.4, 0.3)] == ["b", "c"]
    assert ranked.top(1, None, 0.95) == []


class _MartsPool:
    """Stands in for ClientPool: answers the catalog's three queries from mutable 'marts'."""

    def __init__(self) -> None:
        self.version = "2026-01-01 00:00:00"
        self.genes = [{"gene": "g1", "gene_id": "", "gene_idx": 0}]
        self.detail_loads = 0

    def fetch(self, sql: str, parameters: dict | None = None) -> list[dict]:
        if "FROM marts.datasets" in sql:
            return [
                {
                    "dataset": "d",
                    "value_kind": "counts",
                    "n_genes": 2,
                    "n_cells": 3,
                    "nnz": 4,
                    "loaded_at": "2026-01-01 00:00:00",
                    "marts_version": self.version,
                }
            ]
        self.detail_loads += "FROM marts.genes" in sql
        if "FROM marts.genes" in sql:
            return list(self.genes)
        return [{"cell_type": "A", "sample": "s", "n": 3}]


def test_catalog_reloads_details_when_a_mart_is_rewritten_under_the_same_load() -> None:
    # A server rebuilding while the gateway runs writes marts.datasets before marts.genes: details cached in
    # between (old gene indices) must be replaced once the later marts are written, with no new load.
    from gateway.catalog import Catalog

    pool = _MartsPool()
    catalog = Catalog(pool, ttl_s=0.0)  # type: ignore[arg-type]
    assert catalog.dataset("d").gene_index == {"g1": 0}
    assert catalog.dataset("d").gene_index == {"g1": 0}
    assert pool.detail_loads == 1  # cached while nothing changed
    pool.genes = [{"gene": "g1", "gene_id": "", "gene_idx": 1}, {"gene": "g2", "gene_id": "", "gene_idx": 0}]
    pool.version = "2026-01-01 00:00:07"
    assert catalog.dataset("d").gene_index == {"g1": 1, "g2": 0}
    assert pool.detail_loads == 2
