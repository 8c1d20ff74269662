"""The scale-out projection is one shard's measured share plus the initiator's measured merge."""

from __future__ import annotations

from bench.scaleout import project


def _p50(ms: float) -> dict[str, float]:
    return {"p50_ms": ms}


def _measured(shards: int) -> dict[str, object]:
    """A scale-out measurement: the same per-shard timings, on `shards` shards."""
    return {
        "shards": shards,
        "dbt_build": {"wall_s": 100.0},
        "queries": {
            "coexpression": _p50(400.0),
            "correlation": _p50(20.0),
            "variability": _p50(9.0),
            "merge": {"coexpression": _p50(15.0), "gene_stats": _p50(1500.0), "pseudobulk": _p50(500.0)},
        },
    }


def test_projection_adds_the_merges_to_the_share() -> None:
    measured = _measured(shards=4)
    assert project(measured) == {
        "dbt_build_s": 102.0,
        "coexpression_p50_ms": 415.0,
        "correlation_p50_ms": 20.0,
        "variability_p50_ms": 9.0,
    }


def test_one_shard_has_nothing_to_merge() -> None:
    measured = _measured(shards=1)
    assert project(measured)["dbt_build_s"] == 100.0
    assert project(measured)["coexpression_p50_ms"] == 400.0


def _run(shards: int, nnz: int, build_s: float) -> dict:
    return {
        "share": {"n_cells": 100, "nnz": nnz},
        "load": {"wall_s": 1.0},
        "dbt_build": {"loadavg": 1.0},
        "queries": {
            "loadavg": 1.0,
            "merge": {m: _p50(1.0) for m in ("coexpression", "gene_stats", "pseudobulk")},
        },
        "projected": {
            "dbt_build_s": build_s,
            "coexpression_p50_ms": build_s,
            "correlation_p50_ms": 1.0,
            "variability_p50_ms": 1.0,
        },
    }


def test_single_node_is_extrapolated_from_the_shares_unless_measured() -> None:
    from bench.scaleout_report import markdown, single_node

    results = {"runs": {"4": _run(4, 250, 30.0), "2": _run(2, 500, 55.0)}}
    value, how = single_node(results, "dbt_build_s", 1000)
    assert how == "extrapolated" and abs(value - 105.0) < 1e-9  # 5 + 100 × share
    table = markdown(results, 1000, {"dbt_build_s": 210.0})
    assert "| `dbt build` (s), scaled to the quiet reference | 210 (README) | 110 | 60 |" in table
    results["runs"]["1"] = {**_run(1, 1000, 120.0), "shards": 1}
    assert single_node(results, "dbt_build_s", 1000) == (120.0, "measured")
