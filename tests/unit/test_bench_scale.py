"""bench.scale's pieces without an engine: the streaming oracle against bench.exact's CSR oracle on a tiny
synthetic study, resuming from records, the report's linearity and memory maths, and the peers' memory
limit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.errors import BenchError
from bench.exact import ExactOracle
from bench.scale import report
from bench.scale.oracle import build_oracle, check_all, genes_named, profile, study_cell_types
from bench.scale.records import Records
from bench.scale.sizes import cells_for, label, parse_sizes
from bench.scale.steps import ScaleSettings, SizeRun
from bench.study import StudyFiles, read_study
from bench.workload import make_workload, make_workload_from
from loader.synth import SynthSpec, write_study

CELL_TYPE_COLUMN = "Cluster"


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("scale") / "study"
    write_study(directory, SynthSpec(cells=240, genes=300, nnz=15_000, seed=9))
    return directory


@pytest.fixture(scope="module")
def reference(tiny_study: Path):
    study = read_study(StudyFiles.find(tiny_study), cell_type_column=CELL_TYPE_COLUMN, value_kind="counts")
    return study, ExactOracle(study.lognorm(), study.genes, study.cell_types)


@pytest.fixture(scope="module")
def streamed(tiny_study: Path, reference):
    study, _ = reference
    files = StudyFiles.find(tiny_study)
    totals, _, _ = profile(files)
    cell_types = study_cell_types(files, CELL_TYPE_COLUMN)
    return build_oracle(files, genes=study.genes[:40], cell_types=cell_types, totals=totals)


def test_sizes_parse_and_name():
    assert parse_sizes("1000M, 20M,170m,1B") == [20_000_000, 170_000_000, 1_000_000_000]
    assert parse_sizes("60k,20000") == [20_000, 60_000]
    assert [label(n) for n in (20_000_000, 1_000_000_000, 60_000, 1_500)] == ["20M", "1B", "60k", "1500"]
    assert cells_for(1_000_000_000) == 357_143 and cells_for(100) == 11
    with pytest.raises(BenchError):
        parse_sizes("lots")


def test_profile_counts_what_the_csr_matrix_holds(tiny_study: Path, reference):
    study, _ = reference
    totals, stored, nnz = profile(StudyFiles.find(tiny_study))
    assert nnz == study.nnz
    np.testing.assert_array_equal(stored, np.diff(study.values.indptr))
    np.testing.assert_array_equal(totals, np.asarray(study.values.sum(axis=0)).ravel())


def test_workload_from_a_profile_is_the_workload_from_the_matrix(tiny_study: Path, reference):
    study, _ = reference
    files = StudyFiles.find(tiny_study)
    _, stored, _ = profile(files)
    cell_types = study_cell_types(files, CELL_TYPE_COLUMN)
    options = {"dataset": "bench", "n": 6, "n_coexpression": 2, "n_differential": 0}
    assert make_workload_from(study.genes, stored, cell_types, **options) == make_workload(study, **options)


def test_streamed_oracle_agrees_with_the_csr_oracle(streamed, reference):
    study, exact = reference
    types = sorted(set(study.cell_types))
    compared = 0
    for a in study.genes[:12]:
        for b in study.genes[20:32]:
            for chosen in ([types[0]], types[1:4], []):
                want, got = exact.correlation(a, b, chosen), streamed.correlation(a, b, chosen)
                assert (want is None) == (got is None)
                if want is not None:
                    assert got == pytest.approx(want, rel=1e-12, abs=1e-14)
                    compared += 1
    assert compared > 100
    for cell_type in types:
        np.testing.assert_allclose(streamed.cv(cell_type), exact.cv(cell_type), rtol=1e-12, equal_nan=True)
        # genes beyond the oracle's sampled rows: their CVs come from the streamed moments
        got, want = (
            streamed.cv_of(cell_type, study.genes[200:210]),
            exact.cv_of(cell_type, study.genes[200:210]),
        )
        assert [g is None for g in got] == [w is None for w in want]
        assert [g for g in got if g is not None] == pytest.approx(
            [w for w in want if w is not None], rel=1e-12
        )


def test_streamed_oracle_catches_a_wrong_answer(streamed, reference):
    """Exact answers pass; the same answers nudged by 1e-5 do not (the check can fail)."""
    study, exact = reference
    types = sorted(set(study.cell_types))
    genes = study.genes[:40]
    workload = {
        "correlation": [
            {"gene_a": genes[i], "gene_b": genes[i + 1], "cell_types": types[:2]} for i in range(8)
        ],
        "variability": [{"cell_type": t, "limit": 5} for t in types[:3]],
    }
    right = {
        "correlation": [
            exact.correlation(r["gene_a"], r["gene_b"], r["cell_types"]) for r in workload["correlation"]
        ],
        "variability": [],
    }
    for request in workload["variability"]:
        cv = exact.cv(request["cell_type"])
        top = np.argsort(-np.nan_to_num(cv, nan=-1.0))[:5]
        right["variability"].append([[study.genes[i], float(cv[i])] for i in top])
    assert check_all(streamed, workload, right)["exact"] is True
    wrong = json.loads(json.dumps(right))
    wrong["correlation"][3] = wrong["correlation"][3] * (1 + 1e-5)
    assert check_all(streamed, workload, wrong)["correlation"]["exact"] is False
    wrong = json.loads(json.dumps(right))
    wrong["variability"][1][0][1] *= 1 + 1e-5
    result = check_all(streamed, workload, wrong)
    assert result["variability"]["exact"] is False and result["exact"] is False


def test_oracle_genes_include_the_answers_coexpressed_genes():
    workload = {
        "correlation": [{"gene_a": "A", "gene_b": "B", "cell_types": []}],
        "coexpression": [{"gene": "C", "cell_types": [], "limit": 2}],
    }
    assert genes_named(workload, [{"coexpression": [[["D", 0.5], ["E", 0.4]]]}, {}]) == set("ABCDE")


def _settings(tmp_path: Path) -> ScaleSettings:
    return ScaleSettings(tmp_path, peers=False)


def test_a_rerun_skips_recorded_steps(tmp_path: Path, monkeypatch):
    settings = _settings(tmp_path)
    records = Records(tmp_path / "records")
    records.put(1_000, "study", {"nnz": 1_000})
    records.put(1_000, "load", {"load_s": 1.0})
    ran: list[str] = []
    for step in settings.steps:
        monkeypatch.setattr(SizeRun, f"step_{step}", lambda self, step=step: ran.append(step) or {"ok": step})
    SizeRun(settings, 1_000, records).execute()
    assert ran == ["build", "profile", "queries", "exact"]
    assert records.get(1_000, "load") == {"load_s": 1.0}
    assert records.get(1_000, "exact") == {"nnz_target": 1_000, "ok": "exact"}
    ran.clear()
    SizeRun(settings, 1_000, records).execute()
    assert ran == []


def test_a_step_that_runs_again_drops_the_later_records(tmp_path: Path, monkeypatch):
    settings = _settings(tmp_path)
    records = Records(tmp_path / "records")
    for step in settings.steps:
        if step != "build":
            records.put(1_000, step, {"old": True})
    ran: list[str] = []
    for step in settings.steps:
        monkeypatch.setattr(SizeRun, f"step_{step}", lambda self, step=step: ran.append(step) or {})
    SizeRun(settings, 1_000, records).execute()
    assert ran == ["build", "profile", "queries", "exact"]
    assert records.get(1_000, "load") == {"old": True}


def test_a_failing_step_is_not_recorded(tmp_path: Path, monkeypatch):
    settings = _settings(tmp_path)
    records = Records(tmp_path / "records")
    for step in settings.steps:
        monkeypatch.setattr(SizeRun, f"step_{step}", lambda self: {})

    def fail(self):
        raise BenchError("dbt build failed")

    monkeypatch.setattr(SizeRun, "step_build", fail)
    with pytest.raises(BenchError):
        SizeRun(settings, 1_000, records).execute()
    assert records.done(1_000, "load") and not records.done(1_000, "build")
    assert not records.done(1_000, "exact")


def _size_records(records: Records, nnz: int, seconds_per_nnz: float, peak_mb: float) -> None:
    records.put(nnz, "study", {"nnz": nnz, "n_cells": nnz // 100, "synth_peak_rss_mb": 100.0})
    records.put(nnz, "load", {"load_s": nnz * seconds_per_nnz, "load_peak_rss_mb": 500.0})
    records.put(nnz, "build", {"build_s": 2 * nnz * seconds_per_nnz, "build_peak_rss_mb": peak_mb})
    first = {"p50_ms": 5.0, "p99_ms": 9.0, "first_ms": 1000.0}
    records.put(nnz, "queries", {"gateway_start_s": 2.0, "gateway_peak_rss_mb": 300.0, "correlation": first})
    records.put(nnz, "exact", {"exact": True, "gateway": {}, "peers": {}, "oracle_peak_rss_mb": 50.0})


def test_report_linearity_and_memory_bound(tmp_path: Path):
    records = Records(tmp_path / "records")
    _size_records(records, 1_000_000, 1e-6, 1_000.0)
    _size_records(records, 4_000_000, 1.5e-6, 17_000.0)  # 1.5× slower per non-zero, over 16 GB
    steps = ScaleSettings(tmp_path, peers=False).steps
    results = report.collect(records, [1_000_000, 4_000_000], steps, {"cores": 2})
    small, big = results["sizes"]
    assert small["ttfa_s"] == pytest.approx(1.0 + 2.0 + 2.0 + 1.0)
    assert big["ttfa_s"] == pytest.approx(6.0 + 12.0 + 2.0 + 1.0)
    assert results["linearity"]["load_s"] == [1.0, 1.5]
    assert results["linearity"]["build_s"] == [1.0, 1.5]
    assert results["linearity"]["ttfa_s"] == [1.0, pytest.approx((21.0 / 4) / 6.0, abs=1e-3)]
    assert results["over_memory_bound"] == ["build at 4M: 17,000 MB"]
    markdown = report.render_markdown(results)
    assert "**1.50** (over)" in markdown and "build at 4M" in markdown
    assert "Questions that failed" not in markdown
    queries = records.get(4_000_000, "queries") or {}
    records.put(4_000_000, "queries", {**queries, "markers": {"error": "ReadTimeout: timed out"}})
    results = report.collect(records, [1_000_000, 4_000_000], steps, {"cores": 2})
    assert results["sizes"][1]["markers_error"] == "ReadTimeout: timed out"
    assert "- 4M markers: ReadTimeout: timed out" in report.render_markdown(results)


def test_report_of_a_size_not_yet_run_has_no_figures(tmp_path: Path):
    steps = ScaleSettings(tmp_path).steps
    results = report.collect(Records(tmp_path / "records"), [5_000], steps, {})
    [row] = results["sizes"]
    assert row["nnz"] == 5_000 and row["load_s"] is None and row["ttfa_s"] is None and row["exact"] is None
    assert results["scanpy"] == [] and results["linearity"]["load_s"] == [None]


HUNGRY_PEER = """
import sys
from bench.peers.protocol import peer_main

def run(context):
    ballast = bytearray(4 << 30)  # 4 GB, beyond the limit
    return {"read_s": 1.0, "size": len(ballast)}

sys.exit(peer_main(run))
"""


def test_a_peer_over_its_memory_limit_is_recorded_as_failed(tmp_path: Path, monkeypatch):
    (tmp_path / "modules").mkdir()
    (tmp_path / "modules" / "hungry_peer.py").write_text(HUNGRY_PEER)
    (tmp_path / "modules" / "killed_peer.py").write_text(
        "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    )
    settings = ScaleSettings(tmp_path, peers=True, peer_memory_limit_mb=1024)
    size = SizeRun(settings, 1_000, Records(tmp_path / "records"))
    repo = Path(__file__).resolve().parents[2]
    size.run.env["PYTHONPATH"] = f"{tmp_path / 'modules'}:{repo}"
    size.run.work.mkdir(parents=True)
    (size.run.work / "workload.json").write_text("{}")
    hungry = size.run.peer("hungry", "hungry_peer")
    assert hungry["error"].startswith("MemoryError"), hungry
    assert hungry["peak_rss_mb"] < 1024
    killed = size.run.peer("killed", "killed_peer")
    assert killed["error"].startswith("killed by SIGKILL"), killed
    (tmp_path / "modules" / "slow_peer.py").write_text("import time\ntime.sleep(60)\n")
    slow = SizeRun(ScaleSettings(tmp_path, peer_time_limit_s=1.0), 1_000, Records(tmp_path / "s"))
    slow.run.env["PYTHONPATH"] = size.run.env["PYTHONPATH"]
    stopped = slow.run.peer("slow", "slow_peer")
    assert stopped["error"].startswith("stopped at its time limit of 1 s without a result"), stopped
    assert 1.0 < stopped["wall_s"] < 30 and stopped["peak_rss_mb"] > 0, stopped
    assert stopped["stopped_at_limit_s"] == 1.0 and "stopped_at_limit_s" not in killed, (stopped, killed)
    unlimited = SizeRun(ScaleSettings(tmp_path, peer_memory_limit_mb=None), 1_000, Records(tmp_path / "r"))
    assert unlimited.run.peer_memory_limit_mb is None
    assert sys.executable  # the peers run under this interpreter


def test_a_rerun_with_other_study_options_is_refused(tmp_path: Path):
    ScaleSettings(tmp_path, genes=500, peers=False).pin()
    ScaleSettings(tmp_path, genes=500, peers=False, peer_memory_limit_mb=100).pin()  # not a shaping option
    with pytest.raises(BenchError, match="genes 500 → 600"):
        ScaleSettings(tmp_path, genes=600, peers=False).pin()
    with pytest.raises(BenchError, match="peers False → True"):
        ScaleSettings(tmp_path, genes=500, peers=True).pin()
