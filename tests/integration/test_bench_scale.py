"""`python -m bench.scale` end to end at two tiny sizes (no peers): every step recorded, the results' rows
filled, the answers exact by the streaming oracle, and a rerun that only rewrites the report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.paths import REPO

ARGS = [
    "--sizes",
    "20k,60k",
    "--genes",
    "500",
    "--nnz-per-cell",
    "100",
    "--queries",
    "5",
    "--coexpression",
    "2",
]


def _scale(out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bench.scale", "--out", str(out), *ARGS, "--no-peers"]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_scale_runs_two_sizes_and_resumes(tmp_path: Path):
    done = _scale(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((tmp_path / "results.json").read_text())
    small, big = results["sizes"]
    assert small["nnz_target"] == 20_000 and big["nnz_target"] == 60_000
    assert small["n_cells"] == 200 and big["n_cells"] == 600
    for row in (small, big):
        assert abs(row["nnz"] - row["nnz_target"]) < 0.1 * row["nnz_target"]
        for key in ("load_s", "build_s", "ttfa_s", "store_mb", "gateway_peak_rss_mb", "correlation_p50_ms"):
            assert row[key] and row[key] > 0, key
        for key in ("variability_p50_ms", "coexpression_p50_ms", "markers_p50_ms", "oracle_peak_rss_mb"):
            assert row[key] and row[key] > 0, key
        assert row["exact"] is True
        assert row["exactness"]["correlation"]["n_compared"] == 5
        assert row["exactness"]["coexpression"]["n_compared"] > 0
        assert row["ttfa_s"] > row["load_s"] + row["build_s"]
    assert results["linearity"]["load_s"][0] == 1.0
    assert (tmp_path / "results.md").read_text().count("| yes |") == 2
    assert (tmp_path / "results.png").stat().st_size > 0
    assert len(list((tmp_path / "records").glob("*.json"))) == 12
    assert not (tmp_path / "sizes" / "20k" / "store").exists()  # removed once no step needs it
    assert (tmp_path / "studies" / "20k" / ".complete").exists()

    records = sorted((tmp_path / "records").glob("*.json"))
    before = {p.name: p.read_text() for p in records}
    again = _scale(tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert " done in " not in again.stderr  # every step was skipped
    assert {p.name: p.read_text() for p in records} == before
