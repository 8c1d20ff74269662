"""The README's performance tables are generated from the committed seed and scale results, and say what was
missed."""

from __future__ import annotations

import json

from bench import goals
from bench.readme import (
    BEGIN,
    END,
    README,
    RESULTS,
    SCALE_BEGIN,
    SCALE_END,
    SCALE_RESULTS,
    render,
    render_scale,
    rewrite,
    rewrite_all,
)


def test_readme_performance_tables_match_the_committed_seed_and_scale_results() -> None:
    readme = README.read_text()
    assert BEGIN in readme and END in readme and SCALE_BEGIN in readme and SCALE_END in readme
    seed, scale = json.loads(RESULTS.read_text()), json.loads(SCALE_RESULTS.read_text())
    assert rewrite_all(readme, seed, scale) == readme, "run python -m bench.readme"


def test_scale_table_gives_each_size_and_how_each_peer_fared() -> None:
    results = {
        "machine": {"cores": 2, "ram_gb": 23.5, "cpu_model": "X"},
        "settings": {"peer_memory_limit_mb": 20480},
        "sizes": [
            {
                "nnz": 20_000_000,
                "n_cells": 7143,
                "load_s": 4.0,
                "build_s": 20.0,
                "ttfa_s": 26.0,
                "build_peak_rss_mb": 2048.0,
                "exact": True,
            },
            {
                "nnz": 500_000_000,
                "n_cells": 178571,
                "load_s": 120.0,
                "build_s": 700.0,
                "ttfa_s": 830.0,
                "build_peak_rss_mb": 20480.0,
                "exact": False,
            },
        ],
        "scanpy": [
            {"nnz": 20_000_000, "read_s": 6.0, "peak_rss_mb": 1536.0},
            {
                "nnz": 500_000_000,
                "error": "MemoryError: Unable to allocate 7.27 GiB",
                "wall_s": 43.2,
                "peak_rss_mb": 15360.0,
            },
        ],
        "tiledbsoma": [{"nnz": 20_000_000, "read_s": 0.5, "ingest_s": 16.0, "peak_rss_mb": 2048.0}],
        "linearity": {"load_s": [1.0, 1.2], "build_s": [1.0, 1.4], "ttfa_s": [1.0, None]},
        "over_memory_bound": ["build at 500M: 20,480 MB"],
        "memory_bound_mb": 16384,
    }
    text = render_scale(results)
    assert "one at a time. Peers under a 20 GB address-space limit. All" in text
    assert "| 20,000,000 | 7,143 | 4.0 | 20.0 | 26.0 | 2.0 |" in text
    assert "| 6.0 s, 1.5 GB | 16.5 s, 2.0 GB |" in text
    assert "| **no** | failed after 43 s, at 15.0 GB: MemoryError | — |" in text
    assert "load 1.00 / 1.20; build 1.00 / 1.40; first answer 1.00 / —" in text
    assert "Steps over the 16 GB memory bound: build at 500M: 20,480 MB." in text
    results["settings"]["peer_time_limit_s"] = 900.0
    results["duckdb"] = [
        {"nnz": 20_000_000, "variability_p50_ms": 2500.0, "peak_rss_mb": 512.0},
        {
            "nnz": 500_000_000,
            "error": "stopped at its time limit of 900 s without a result: ...",
            "wall_s": 900.1,
            "peak_rss_mb": 6144.0,
            "stopped_at_limit_s": 900.0,
        },
    ]
    timed = render_scale(results)
    assert "Peers under a 20 GB address-space limit and stopped after 15 min. All" in timed
    assert "| 16.5 s, 2.0 GB | 2.5 s, 0.5 GB |" in timed
    assert "| — | stopped at its time limit of 900 s, at 6.0 GB |" in timed


def test_committed_results_are_the_seed_preset_with_every_goal_judged() -> None:
    results = json.loads(RESULTS.read_text())
    assert results["preset"] == "seed"
    judged = {g["goal"] for g in results["goals"]}
    assert judged == {g.key for g in goals.GOALS}
    assert (RESULTS.parent / "results.md").exists() and (RESULTS.parent / "results.png").exists()


def test_render_marks_misses_and_throughput_is_higher_is_better() -> None:
    results = {
        "preset": "seed",
        "dbt_build_s": 180.0,
        "throughput": {"rps": 300.0, "errors": 0},
        "first_answer": {"genostream": {"total_s": 150.0}, "scanpy": {"total_s": 40.0}},
    }
    results["goals"] = goals.judge(results)
    by_key = {g["goal"]: g for g in results["goals"]}
    assert by_key["dbt_build"]["met"] is False
    assert by_key["throughput"]["met"] is True and by_key["throughput_errors"]["met"] is True
    text = render(results)
    assert "| full dbt build (models + data and unit tests) ≤ 150 s | 180.0 s | **missed** |" in text
    assert "| scanpy: read into memory + first correlation | 40.0 |" in text
    assert rewrite(f"a\n{BEGIN}\nold\n{END}\nb", "new") == f"a\n{BEGIN}\nnew\n{END}\nb"
    both = f"{BEGIN}\n{END}\n{SCALE_BEGIN}\nold\n{SCALE_END}"
    expected = f"{BEGIN}\n{END}\n{SCALE_BEGIN}\ncurve\n{SCALE_END}"
    assert rewrite(both, "curve", SCALE_BEGIN, SCALE_END) == expected
