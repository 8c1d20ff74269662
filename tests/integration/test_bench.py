"""The benchmark's pieces on small inputs (no peers, no bench extra): helpers, the exact oracle against the
dense matrix, the seed's SQL on the session store, and the HTTP contract the benchmark drives."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from bench import goals, report
from bench.exact import ExactOracle, check_correlation, check_variability, compare
from bench.gateway_client import build_call, parse_answer
from bench.measure import percentiles_ms, run_child
from bench.runner import CHECKS, HTTP_QUESTIONS
from bench.study import StudyFiles, make_unique, read_study
from bench.workload import GROUP_QUESTIONS, make_workload
from tests.helpers.paths import PBMC_DIR, REPO

pytestmark = pytest.mark.studies("pbmc", "demo")


@pytest.fixture(scope="module")
def pbmc_study():
    return read_study(StudyFiles.find(PBMC_DIR), cell_type_column="Cluster", value_kind="real")


@pytest.fixture(scope="module")
def pbmc_oracle(pbmc_study):
    return ExactOracle(pbmc_study.lognorm(), pbmc_study.genes, pbmc_study.cell_types)


@pytest.fixture(scope="module")
def pbmc_workload(pbmc_study):
    return make_workload(pbmc_study, dataset="pbmc", n=12, n_coexpression=3)


@pytest.fixture(scope="module")
def demo_workload(demo_study_dir):
    """The questions of any group of cells name the synthetic studies' metadata (the demo is one)."""
    study = read_study(StudyFiles.find(demo_study_dir), cell_type_column="Cluster", value_kind="counts")
    return make_workload(study, dataset="demo", n=3, n_coexpression=1, n_differential=2)


def test_percentiles_match_numpy():
    rng = np.random.default_rng(1)
    samples = rng.exponential(0.01, size=501)
    summary = percentiles_ms(samples)
    assert summary["n"] == 501
    for q in (50, 95, 99):
        assert summary[f"p{q}_ms"] == pytest.approx(np.percentile(samples, q) * 1000, abs=1e-3)
    with pytest.raises(ValueError):
        percentiles_ms([])


def test_run_child_measures_its_own_peak_rss(tmp_path: Path):
    code = "import numpy as np; a = np.ones(40_000_000); print(a.sum())"  # 320 MB touched
    child = run_child([sys.executable, "-c", code], log=tmp_path / "child.log")
    assert child.returncode == 0
    assert child.peak_rss_mb > 300
    assert child.wall_s > 0
    assert "40000000.0" in child.log.read_text()


def test_make_unique_follows_scanpy():
    assert make_unique(["A", "B", "A", "A", "A-1"]) == ["A", "B", "A-2", "A-3", "A-1"]


def test_study_reader_agrees_with_the_dense_oracle(pbmc_study, pbmc_dense):
    assert pbmc_study.genes == pbmc_dense.genes
    assert np.array_equal(pbmc_study.values.toarray(), pbmc_dense.matrix)
    assert list(pbmc_study.cell_types) == list(pbmc_dense.cell_types)


def test_counts_lognorm_matches_scanpy_formula():
    values = sp.csr_matrix(np.array([[1.0, 0.0, 3.0], [0.0, 0.0, 1.0], [4.0, 0.0, 0.0]]))
    from bench.study import Study

    study = Study(["a", "b", "c"], ["x", "y", "z"], np.array(["t"] * 3, dtype=object), values, "counts")
    dense = values.toarray()
    totals = dense.sum(axis=0)
    expected = np.log1p(np.divide(dense, totals, out=np.zeros_like(dense), where=totals > 0) * 1e4)
    assert np.allclose(study.lognorm().toarray(), expected, rtol=1e-15)


def test_oracle_matches_numpy_on_the_dense_matrix(pbmc_oracle, pbmc_dense, pbmc_workload):
    for request in pbmc_workload["correlation"]:
        mask = pbmc_dense.cells_of(request["cell_types"])
        x, y = pbmc_dense.gene_row(request["gene_a"])[mask], pbmc_dense.gene_row(request["gene_b"])[mask]
        got = pbmc_oracle.correlation(request["gene_a"], request["gene_b"], request["cell_types"])
        if x.std() == 0 or y.std() == 0:
            assert got is None
        else:
            assert got == pytest.approx(np.corrcoef(x, y)[0, 1], rel=1e-12, abs=1e-14)
    cell_type = pbmc_workload["cell_types"][0]
    block = pbmc_dense.matrix[:, pbmc_dense.cells_of([cell_type])]
    mean, std = block.mean(axis=1), block.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(mean > 0, std / mean, np.nan)
    assert np.allclose(pbmc_oracle.cv(cell_type), expected, rtol=1e-12, equal_nan=True)


def test_compare_counts_errors_and_missing_answers():
    result = compare([1.0, 2.0 * (1 + 1e-3), None, None, 5.0], [1.0, 2.0, None, 3.0, 5.0 * (1 + 1e-9)])
    assert (result.n, result.n_wrong, result.n_missing) == (5, 1, 1)
    assert result.max_rel_err == pytest.approx(1e-3)
    assert not result.exact
    assert compare([0.5, None], [0.5 + 1e-9, None]).exact


def test_workload_is_reproducible_and_names_real_genes(pbmc_study):
    one = make_workload(pbmc_study, dataset="pbmc", n=30, n_coexpression=4)
    two = make_workload(pbmc_study, dataset="pbmc", n=30, n_coexpression=4)
    assert one == two
    genes, types = set(pbmc_study.genes), set(pbmc_study.cell_types)
    assert len(one["correlation"]) == 30 and len(one["coexpression"]) == 4
    for request in one["correlation"]:
        assert {request["gene_a"], request["gene_b"]} <= genes and request["gene_a"] != request["gene_b"]
        assert set(request["cell_types"]) <= types
    assert {r["cell_type"] for r in one["variability"]} <= types


def test_seed_sql_is_measurably_inexact(built_store, pbmc_oracle, pbmc_workload, tmp_path: Path):
    from bench.peers import seed_sql
    from bench.peers.protocol import PeerContext

    workload_path = tmp_path / "workload.json"
    workload_path.write_text(json.dumps(pbmc_workload))
    context = PeerContext(
        study_dir=PBMC_DIR,
        cell_type_column="Cluster",
        value_kind="real",
        dataset="pbmc",
        workload=workload_path,
        work_dir=tmp_path,
    )
    result = seed_sql.run(context)
    correlation = check_correlation(
        pbmc_oracle, pbmc_workload["correlation"], result["correlation"]["answers"]
    )
    variability = check_variability(
        pbmc_oracle, pbmc_workload["variability"], result["variability"]["answers"]
    )
    assert not correlation.exact and correlation.max_rel_err > 1e-2
    assert not variability.exact and variability.max_rel_err > 1e-2
    assert result["correlation"]["latency"]["n"] == len(pbmc_workload["correlation"])


@pytest.mark.parametrize("question", HTTP_QUESTIONS)
def test_the_gateway_answers_the_benchmark_requests_exactly(
    question, api, pbmc_oracle, pbmc_workload, demo_workload
):
    """The requests the benchmark sends are accepted, and the answers it parses are the exact ones."""
    answers = []
    dataset, workload = ("demo", demo_workload) if question in GROUP_QUESTIONS else ("pbmc", pbmc_workload)
    for request in workload[question]:
        call = build_call(question, request, dataset)
        response = api.open(call.path, method=call.method, json=call.body, query_string=call.params)
        assert response.status_code == 200, response.get_data(as_text=True)
        answers.append(parse_answer(question, response.get_json()))
    if question in CHECKS:
        comparison = CHECKS[question](pbmc_oracle, pbmc_workload[question], answers)
        assert comparison.exact, comparison.as_dict()


def test_report_states_ratios_and_misses():
    results = {
        "preset": "tiny",
        "queries": {
            "correlation": {"p50_ms": 5.0, "p95_ms": 20.0, "p99_ms": 200.0, "n": 5, "exact": True},
            "de_wilcoxon": {"p50_ms": 9000.0, "p95_ms": 9500.0, "p99_ms": 9600.0, "n": 5},
        },
        "peers": {
            "scanpy": {
                "correlation": {"p50_ms": 25.0, "p99_ms": 30.0, "n": 5, "exact": True},
                "de_wilcoxon": {"p50_ms": 99000.0, "p99_ms": 108000.0, "n": 2, "exact": True},
            }
        },
        "ingest": {"loader_s": 30.0, "engine_file_s": 10.0, "loader_vs_engine": 3.0, "peak_rss_mb": 500.0},
        "dbt_build_s": 12.0,
    }
    judged = {g["goal"]: g for g in goals.judge(results)}
    assert judged["load_vs_engine"]["met"] is False and judged["load_vs_engine"]["ratio_to_target"] == 1.5
    assert judged["correlation_p99"]["met"] is False and "why" in judged["correlation_p99"]
    assert judged["correlation_p50"]["met"] is True and judged["variability_p50"]["met"] is None
    results["goals"] = list(judged.values())
    text = report.render_markdown(results)
    assert (
        "| correlation p50: scanpy in-process / genostream over HTTP | 5.00 ms | 25.00 ms | 5.00× |" in text
    )
    wilcoxon = (
        "| de_wilcoxon p50: scanpy in-process / genostream over HTTP | 9000.00 ms | 99000.00 ms | 11.00× |"
    )
    assert wilcoxon in text
    assert "**missed**" in text and "1.50× target" in text


@pytest.mark.slow
def test_bench_end_to_end_on_a_tiny_study(tmp_path: Path):
    """`python -m bench --preset tiny --no-peers`: every stage runs and results.json has the promised keys."""
    out = tmp_path / "bench"
    child = run_child(
        [sys.executable, "-m", "bench", "--preset", "tiny", "--no-peers", "--out", str(out)],
        log=tmp_path / "bench.log",
        cwd=REPO,
    )
    assert child.returncode == 0, child.tail(5)
    results = json.loads((out / "results.json").read_text())
    for key in ("loader_s", "engine_file_s", "peak_rss_mb"):
        assert isinstance(results["ingest"][key], float | int) and results["ingest"][key] > 0
    assert results["dbt_build_s"] > 0 and results["throughput_rps"] > 0
    for question in HTTP_QUESTIONS:
        timing = results["queries"][question]
        assert 0 < timing["p50_ms"] <= timing["p95_ms"] <= timing["p99_ms"]
    for question in CHECKS:
        assert results["queries"][question]["exact"] is True
    assert results["peers"]["seed_sql"]["exact"] is False
    assert set(results["peers"]) == {"scanpy", "duckdb", "tiledbsoma", "seed_sql"}
    assert {"cores", "ram_gb", "cpu_model", "versions"} <= set(results["machine"])
    assert (out / "results.md").read_text().startswith("# genostream benchmark")
