"""The issue's goals (set for `--preset seed` on a 2-core, 24 GB machine), judged on a results dict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Goal:
    key: str
    label: str
    path: tuple[str, ...]  # where the measured value lives in results.json
    target: float
    unit: str
    why_if_missed: str
    higher_is_better: bool = False  # throughput: met when value >= target

    def met(self, value: float) -> bool:
        return value >= self.target if self.higher_is_better else value <= self.target


# Issue 12's targets (loader goals from the issue before it).
GOALS = (
    Goal(
        "load_vs_engine",
        "load ≤ 2× the engine's own ingest",
        ("ingest", "loader_vs_engine"),
        2.0,
        "×",
        "the loader parses and validates every line (indices, duplicates, NaN, metadata) and publishes "
        "atomically, which the engine's file() does not",
    ),
    Goal(
        "loader_rss",
        "loader peak RSS ≤ 1 GB",
        ("ingest", "peak_rss_mb"),
        1024.0,
        "MB",
        "Arrow batches in flight plus the gene/barcode dictionaries; smaller batches or fewer in flight",
    ),
    Goal(
        "dbt_build",
        "full dbt build (models + data and unit tests) ≤ 150 s",
        ("dbt_build_s",),
        150.0,
        "s",
        "writing every non-zero into marts.expression (sort, compress, write) and the marts aggregating it; "
        "under contention from other processes on the 2 cores the wall time stretches (see the load average)",
    ),
    Goal(
        "first_answer",
        "time to first answer (load + build + gateway start + first correlation) ≤ 200 s",
        ("first_answer", "genostream", "total_s"),
        200.0,
        "s",
        "the dbt build is most of it",
    ),
    Goal(
        "dbt_build_rss",
        "dbt build peak RSS ≤ 6 GB",
        ("dbt_build_peak_rss_mb",),
        6144.0,
        "MB",
        "insert blocks of 16M rows per insert thread held while sorting",
    ),
    Goal(
        "correlation_p50",
        "/gene-correlation p50 ≤ 8 ms",
        ("queries", "correlation", "p50_ms"),
        8.0,
        "ms",
        "the engine's fixed per-query cost on a MergeTree read (plan, parts, granules) plus HTTP/Flask/JSON",
    ),
    Goal(
        "correlation_p99",
        "/gene-correlation p99 ≤ 25 ms",
        ("queries", "correlation", "p99_ms"),
        25.0,
        "ms",
        "background merges and other processes on the 2 cores",
    ),
    Goal(
        "variability_p50",
        "/gene-variability p50 ≤ 6 ms",
        ("queries", "variability", "p50_ms"),
        6.0,
        "ms",
        "one cell type's slice of marts.gene_stats is read and sorted by cv per request",
    ),
    Goal(
        "coexpression_p50",
        "co-expression, one gene vs all genes in a cell type, p50 ≤ 0.5 s",
        ("queries", "coexpression", "p50_ms"),
        500.0,
        "ms",
        "a scan of the chosen cells' non-zeros of every gene (the table is ordered by gene, not cell)",
    ),
    Goal(
        "throughput",
        "/gene-correlation with 16 concurrent clients ≥ 250 requests/s",
        ("throughput", "rps"),
        250.0,
        "req/s",
        "CPU per request (engine + Python) on 2 cores shared with the 16 client threads",
        higher_is_better=True,
    ),
    Goal(
        "throughput_errors",
        "/gene-correlation with 16 concurrent clients: 0 errors",
        ("throughput", "errors"),
        0.0,
        "errors",
        "requests failed or timed out under load",
    ),
    Goal(
        "markers_p50",
        "markers of a cell type p50 ≤ 40 ms",
        ("queries", "markers", "p50_ms"),
        40.0,
        "ms",
        "the cell type's genes are read from marts.marker_genes and ranked with scipy p-values",
    ),
    Goal(
        "correlation_where_p50",
        "/gene-correlation with a `where` on two columns p50 ≤ 15 ms",
        ("queries", "correlation_where", "p50_ms"),
        15.0,
        "ms",
        "the selection's cells from marts.cells, the two genes' stored rows joined to them",
    ),
    Goal(
        "dot_plot_compare_p50",
        "dot plot of 10 genes, compare_by a 3-valued column, p50 ≤ 150 ms",
        ("queries", "dot_plot_compare", "p50_ms"),
        150.0,
        "ms",
        "the genes' stored rows of every cell joined to their cell type and compare value",
    ),
    Goal(
        "de_ttest_p50",
        "differential expression, t-test, a cell type vs rest, all genes ≤ 2 s",
        ("queries", "de_ttest", "p50_ms"),
        2000.0,
        "ms",
        "every stored value read once by gene (marts.expression_by_gene), moments per group",
    ),
    Goal(
        "de_ttest_where_p50",
        "differential expression, t-test, a `where` on both sides, all genes ≤ 3 s",
        ("queries", "de_ttest_where", "p50_ms"),
        3000.0,
        "ms",
        "as the t-test, with both groups' cells looked up in sets built from marts.cells",
    ),
    Goal(
        "de_wilcoxon_p50",
        "differential expression, Wilcoxon, a cell type vs rest, all genes ≤ 20 s",
        ("queries", "de_wilcoxon", "p50_ms"),
        20000.0,
        "ms",
        "each gene's stored values sorted and ranked in ClickHouse; the zeros one tie block",
    ),
)


def lookup(results: dict[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def _evidence(results: dict[str, Any], goal: Goal) -> str | None:
    """For a missed query goal: the same question answered in-process, and the HTTP floor."""
    if goal.path[0] != "queries":
        return None
    inprocess = results.get("genostream_inprocess", {}).get(goal.path[1])
    floor = results.get("http_floor", {}).get("p50_ms")
    parts = []
    if isinstance(inprocess, dict) and "p50_ms" in inprocess:
        parts.append(f"in-process SQL p50 {inprocess['p50_ms']:.1f} ms, p99 {inprocess['p99_ms']:.1f} ms")
    if floor is not None:
        parts.append(f"HTTP floor (GET /health) p50 {floor:.1f} ms")
    return "; ".join(parts) or None


def judge(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with its measured value, pass/miss, and by how much (value / target)."""
    judged = []
    for goal in GOALS:
        value = lookup(results, goal.path)
        entry: dict[str, Any] = {
            "goal": goal.key,
            "label": goal.label,
            "target": goal.target,
            "unit": goal.unit,
            "value": value,
            "met": None if value is None else goal.met(value),
            "ratio_to_target": None if value is None or goal.target == 0 else round(value / goal.target, 3),
        }
        if entry["met"] is False:
            entry["why"] = goal.why_if_missed
            evidence = _evidence(results, goal)
            if evidence:
                entry["evidence"] = evidence
        judged.append(entry)
    return judged
