"""The scale-out simulation's table (docs/scale-out.md): projected cluster figures beside the single node.

The single node is N = 1 when it was measured in the same run; otherwise it is extrapolated from the shares by
a least-squares line through (share of the non-zeros, seconds) — labelled so. On a loaded machine every figure
is inflated alike, so the build and co-expression are also given scaled to a quiet single-node reference (the
README's bench figures): reference × projected / single node of the same run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.markdown import table

METRICS = {"dbt_build_s": "`dbt build` (s)", "coexpression_p50_ms": "co-expression, one gene × all, p50 (ms)"}


def single_node(results: dict[str, Any], metric: str, total_nnz: int) -> tuple[float, str]:
    """The single-node value of `metric` in this run: measured (N = 1) or extrapolated from the shares."""
    runs = results["runs"]
    if "1" in runs:
        return float(runs["1"]["projected"][metric]), "measured"
    shares = [(run["share"]["nnz"] / total_nnz, float(run["projected"][metric])) for run in runs.values()]
    fraction, value = (np.array(column) for column in zip(*shares, strict=True))
    slope, intercept = np.polyfit(fraction, value, 1)
    return float(slope + intercept), "extrapolated"


def markdown(results: dict[str, Any], total_nnz: int, reference: dict[str, float]) -> str:
    """The table, one column per shard count (N = 1 first)."""
    runs = results["runs"]
    counts = sorted(int(n) for n in runs if n != "1")
    header = ["", "1 node", *(f"{n} shards (projected)" for n in counts)]
    rows: list[list[str]] = []

    def row(label: str, single: str, values: list[str]) -> None:
        rows.append([label, single, *values])

    for metric, label in METRICS.items():
        base, how = single_node(results, metric, total_nnz)
        projected = [float(runs[str(n)]["projected"][metric]) for n in counts]
        row(f"{label}, this run", f"{base:,.0f} ({how})", [f"{v:,.0f}" for v in projected])
        if metric in reference:
            scaled = [reference[metric] * v / base for v in projected]
            row(
                f"{label}, scaled to the quiet reference",
                f"{reference[metric]:,.0f} (README)",
                [f"{v:,.0f}" for v in scaled],
            )
        row(f"{label}: speed-up", "1×", [f"{base / v:.1f}×" for v in projected])
    for metric, label in (
        ("correlation_p50_ms", "correlation, p50 (ms)"),
        ("variability_p50_ms", "variability, p50 (ms)"),
    ):
        single = f"{runs['1']['projected'][metric]:,.1f}" if "1" in runs else "—"
        row(f"{label}, this run", single, [f"{runs[str(n)]['projected'][metric]:,.1f}" for n in counts])
    share = [runs[str(n)]["share"] for n in counts]
    row(
        "shard 1's share: cells / non-zeros",
        f"all / {total_nnz:,}",
        [f"{s['n_cells']:,} / {s['nnz']:,}" for s in share],
    )
    row(
        "shard 1's load of its share (s)",
        f"{runs['1']['load']['wall_s']:,.0f}" if "1" in runs else "—",
        [f"{runs[str(n)]['load']['wall_s']:,.0f}" for n in counts],
    )
    merges = ["coexpression", "gene_stats", "pseudobulk"]
    row(
        "merge p50 (ms): co-expression / gene_stats / pseudobulk",
        "—",
        [" / ".join(f"{runs[str(n)]['queries']['merge'][m]['p50_ms']:,.0f}" for m in merges) for n in counts],
    )
    row(
        "load average (1 min) at build / queries",
        f"{runs['1']['dbt_build']['loadavg']} / {runs['1']['queries']['loadavg']}" if "1" in runs else "—",
        [f"{runs[str(n)]['dbt_build']['loadavg']} / {runs[str(n)]['queries']['loadavg']}" for n in counts],
    )
    return "\n".join(table(header, rows))
