"""results.json, results.md and results.png of a scale run, from its records: one row per size, the peers'
rows, the linearity check (time per non-zero against the smallest size) and the per-step memory bound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.markdown import table
from bench.scale.records import Records
from bench.scale.sizes import label
from bench.scale.steps import PEERS, QUESTIONS

MEMORY_BOUND_MB = 16 * 1024  # issue 23: every step's peak RSS at ≥ 1B non-zeros
LINEAR_SLACK = 1.3  # time per non-zero may grow by 30 % over the smallest size's
TIMED = ("load_s", "build_s", "ttfa_s")
PEAKS = (
    "synth_peak_rss_mb",
    "load_peak_rss_mb",
    "engine_peak_rss_mb",
    "build_peak_rss_mb",
    "gateway_peak_rss_mb",
    "oracle_peak_rss_mb",
)


def size_row(nnz_target: int, steps: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The genostream figures of one size (None where a step has not run yet)."""
    study, load, build = steps.get("study", {}), steps.get("load", {}), steps.get("build", {})
    queries, exact = steps.get("queries", {}), steps.get("exact", {})
    row: dict[str, Any] = {
        "nnz": study.get("nnz", nnz_target),
        "nnz_target": nnz_target,
        "n_cells": study.get("n_cells"),
        "n_genes": study.get("n_genes"),
        "matrix_mb": study.get("matrix_mb"),
        "synth_peak_rss_mb": study.get("synth_peak_rss_mb"),
        "load_s": load.get("load_s"),
        "load_peak_rss_mb": load.get("load_peak_rss_mb"),
        "engine_file_s": load.get("engine_file_s"),
        "engine_peak_rss_mb": load.get("engine_peak_rss_mb"),
        "build_s": build.get("build_s"),
        "build_peak_rss_mb": build.get("build_peak_rss_mb"),
        "store_mb": build.get("store_mb"),
        "gateway_start_s": queries.get("gateway_start_s"),
        "gateway_peak_rss_mb": queries.get("gateway_peak_rss_mb"),
    }
    for question in QUESTIONS:
        part = queries.get(question) or {}
        row[f"{question}_p50_ms"] = part.get("p50_ms")
        row[f"{question}_p99_ms"] = part.get("p99_ms")
        if "error" in part:
            row[f"{question}_error"] = part["error"]
    first = (queries.get("correlation") or {}).get("first_ms")
    parts = [row["load_s"], row["build_s"], row["gateway_start_s"], None if first is None else first / 1000]
    row["ttfa_s"] = round(sum(p for p in parts if p is not None), 2) if None not in parts else None
    row["oracle_peak_rss_mb"] = exact.get("oracle_peak_rss_mb")
    row["exact"] = exact.get("exact")
    if exact:
        row["exactness"] = exact.get("gateway")
    return row


def peer_row(nnz: int, peer: str, record: dict[str, Any], exact: dict[str, Any] | None) -> dict[str, Any]:
    """A peer's figures at one size, or how it failed; its answers' exactness from the exact step."""
    if "error" in record or "skipped" in record:
        kept = ("error", "skipped", "stopped_at_limit_s", "wall_s", "peak_rss_mb")
        return {"nnz": nnz, **{k: record.get(k) for k in kept}}
    row: dict[str, Any] = {"nnz": nnz}
    if "load_s" in record:
        row["read_s"] = record["load_s"]
    for key in ("read_s", "ingest_s", "attach_s", "disk_mb", "parquet_mb", "wall_s", "peak_rss_mb"):
        if key in record:
            row[key] = record[key]
    for question in ("correlation", "variability"):
        if isinstance(record.get(question), dict):
            row[f"{question}_p50_ms"] = record[question].get("p50_ms")
    checked = (exact or {}).get("peers", {}).get(peer)
    row["exact"] = checked.get("exact") if checked else None
    return row


def linearity(sizes: list[dict[str, Any]]) -> dict[str, list[float | None]]:
    """Per timed step, each size's time per non-zero divided by the smallest size's (1.0 = linear)."""
    result: dict[str, list[float | None]] = {}
    for key in TIMED:
        base = next((r[key] / r["nnz"] for r in sizes if r.get(key)), None)
        result[key] = [
            round((r[key] / r["nnz"]) / base, 3) if base and r.get(key) is not None else None for r in sizes
        ]
    return result


def over_bound(sizes: list[dict[str, Any]]) -> list[str]:
    """'<step> at <size>: <MB>' for every step whose peak RSS passed MEMORY_BOUND_MB."""
    return [
        f"{key.removesuffix('_peak_rss_mb')} at {label(r['nnz_target'])}: {r[key]:,.0f} MB"
        for r in sizes
        for key in PEAKS
        if (r.get(key) or 0) > MEMORY_BOUND_MB
    ]


def collect(
    records: Records,
    sizes: list[int],
    steps: tuple[str, ...],
    machine: dict,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine, "settings": settings or {}, "sizes": []}
    for peer in PEERS:
        results[peer] = []
    for nnz in sizes:
        recorded = records.of_size(nnz, steps)
        row = size_row(nnz, recorded)
        results["sizes"].append(row)
        for peer in PEERS:
            if peer in recorded:
                results[peer].append(peer_row(row["nnz"], peer, recorded[peer], recorded.get("exact")))
    results["linearity"] = linearity(results["sizes"])
    results["over_memory_bound"] = over_bound(results["sizes"])
    results["memory_bound_mb"] = MEMORY_BOUND_MB
    return results


def _cell(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render_markdown(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    lines = ["# genostream at scale (`python -m bench.scale`)", ""]
    columns = [
        ("non-zeros", "nnz"),
        ("cells", "n_cells"),
        ("load s", "load_s"),
        ("load MB", "load_peak_rss_mb"),
        ("engine file() s", "engine_file_s"),
        ("build s", "build_s"),
        ("build MB", "build_peak_rss_mb"),
        ("first answer s", "ttfa_s"),
        ("store MB", "store_mb"),
        ("gateway start s", "gateway_start_s"),
        ("gateway MB", "gateway_peak_rss_mb"),
        ("corr p50/p99 ms", None),
        ("var p50 ms", "variability_p50_ms"),
        ("coexpr p50 ms", "coexpression_p50_ms"),
        ("markers p50 ms", "markers_p50_ms"),
        ("exact", "exact"),
    ]
    rows = []
    for r in sizes:
        corr = f"{_cell(r.get('correlation_p50_ms'))} / {_cell(r.get('correlation_p99_ms'))}"
        rows.append([corr if key is None else _cell(r.get(key)) for _, key in columns])
    lines += table([c for c, _ in columns], rows)
    failed = [
        f"- {label(r['nnz_target'])} {k.removesuffix('_error')}: {v}"
        for r in sizes
        for k, v in r.items()
        if k.endswith("_error")
    ]
    if failed:
        lines += ["", "Questions that failed:", *failed]
    lines += ["", "## Linearity: time per non-zero relative to the smallest size (goal ≤ 1.3)", ""]
    lin = results["linearity"]
    rows = [[_cell(r["nnz"])] + [_flag(lin[key][i]) for key in TIMED] for i, r in enumerate(sizes)]
    lines += table(["non-zeros", *TIMED], rows)
    bound = results["memory_bound_mb"]
    lines += ["", f"## Memory: every step's peak RSS ≤ {bound:,} MB", ""]
    over = results["over_memory_bound"]
    lines.append("Over the bound: " + "; ".join(over) if over else "No step passed the bound.")
    rows = [[_cell(r["nnz"])] + [_cell(r.get(key), 0) for key in PEAKS] for r in sizes]
    lines += ["", *table(["non-zeros", *(k.removesuffix("_peak_rss_mb") + " MB" for k in PEAKS)], rows)]
    for peer in PEERS:
        if results.get(peer):
            lines += ["", f"## {peer}", ""]
            keys = sorted({k for row in results[peer] for k in row if k != "nnz"})
            rows = [[_cell(row["nnz"])] + [_cell(row.get(k)) for k in keys] for row in results[peer]]
            lines += table(["non-zeros", *keys], rows)
    machine = results.get("machine", {})
    lines += [
        "",
        f"Machine: {machine.get('cpu_model')}, {machine.get('cores')} cores, {machine.get('ram_gb')} GB.",
    ]
    return "\n".join(lines) + "\n"


def _flag(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.2f}" if ratio <= LINEAR_SLACK else f"**{ratio:.2f}** (over)"


def render_chart(results: dict[str, Any], path: Path) -> None:
    """Two log–log panels against non-zeros: seconds per step (and the peers' read), and peak memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5))
    sizes = results["sizes"]

    def plot(axis, rows: list[dict[str, Any]], key: str, name: str, style: str = "o-") -> None:
        points = [(r["nnz"], r[key]) for r in rows if r.get(key)]
        if points:
            axis.plot(*zip(*points, strict=True), style, label=name)

    for key, name in (("load_s", "load"), ("build_s", "dbt build"), ("ttfa_s", "first answer")):
        plot(left, sizes, key, name)
    built = [(r["nnz"], r["build_s"]) for r in sizes if r.get("build_s")]
    if len(built) > 1:  # a guide of slope 1 through the smallest size: linear cost runs parallel to it
        (x0, y0), x1 = built[0], built[-1][0]
        left.plot([x0, x1], [y0, y0 * x1 / x0], ":", color="gray", label="∝ non-zeros (from build)")
    plot(left, results.get("scanpy", []), "read_s", "scanpy read", "s--")
    plot(left, results.get("tiledbsoma", []), "ingest_s", "TileDB-SOMA ingest", "s--")
    for key in PEAKS:
        plot(right, sizes, key, key.removesuffix("_peak_rss_mb"))
    plot(right, results.get("scanpy", []), "peak_rss_mb", "scanpy", "s--")
    plot(right, results.get("tiledbsoma", []), "peak_rss_mb", "TileDB-SOMA", "s--")
    right.axhline(results["memory_bound_mb"], color="red", linewidth=0.8, label="16 GB bound")
    for axis, title, unit in ((left, "Time", "seconds"), (right, "Peak memory", "peak RSS (MB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("non-zeros")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.legend(fontsize=8)
    fig.suptitle("genostream: cost against study size (log–log)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
