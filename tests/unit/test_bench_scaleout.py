"""The scale-out projection is one shard's measured share plus the initiator's measured merge."""

from __future__ import annotations

from bench.scaleout import project


def _p50(ms: float) -> dict[str, float]:
    return {"p50_ms": ms}


def test_projection_adds_the_merges_to_the_share() -> None:
    measured = {
        "shards": 4,
        "dbt_build": {"wall_s": 100.0},
        "queries": {
            "coexpression": _p50(400.0),
            "correlation": _p50(20.0),
            "variability": _p50(9.0),
            "merge": {"coexpression": _p50(15.0), "gene_stats": _p50(1500.0), "pseudobulk": _p50(500.0)},
        },
    }
    assert project(measured) == {
        "dbt_build_s": 102.0,
        "coexpression_p50_ms": 415.0,
        "correlation_p50_ms": 20.0,
        "variability_p50_ms": 9.0,
    }


def test_one_shard_has_nothing_to_merge() -> None:
    measured = {
        "shards": 1,
        "dbt_build": {"wall_s": 100.0},
        "queries": {
            "coexpression": _p50(400.0),
            "correlation": _p50(20.0),
            "variability": _p50(9.0),
            "merge": {"coexpression": _p50(15.0), "gene_stats": _p50(1500.0), "pseudobulk": _p50(500.0)},
        },
    }
    assert project(measured)["dbt_build_s"] == 100.0
    assert project(measured)["coexpression_p50_ms"] == 400.0
