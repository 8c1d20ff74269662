"""results.md (ratios first, goals, exactness, details, machine) and results.png from a results dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.markdown import table
from bench.workload import HTTP_QUESTIONS

QUESTIONS = HTTP_QUESTIONS  # the report lists them in this order
PEERS = ("scanpy", "duckdb", "tiledbsoma", "seed_sql")


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) >= 0.01 or value == 0 else f"{value:.2e}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator in (None, 0):
        return None
    return numerator / denominator


def _peer_p50(results: dict[str, Any], peer: str, question: str) -> float | None:
    part = results.get("peers", {}).get(peer, {}).get(question)
    return part.get("p50_ms") if isinstance(part, dict) else None


def ratio_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(comparison, ours, theirs, ratio) — ratio > 1 means genostream is faster / leaner."""
    rows: list[tuple[str, str, str, str]] = []
    inprocess = results.get("genostream_inprocess", {})
    for question in ("correlation", "variability"):
        ours = (inprocess.get(question) or {}).get("p50_ms")
        for peer in PEERS:
            theirs = _peer_p50(results, peer, question)
            if theirs is not None and ours is not None:
                label = f"{question} p50, both in-process: {peer} / genostream SQL"
                ratio = f"{_num(_ratio(theirs, ours), 2)}×"
                rows.append((label, f"{ours:.2f} ms", f"{theirs:.2f} ms", ratio))
    queries = results.get("queries", {})
    for question in ("correlation", "variability", "de_wilcoxon"):
        ours = queries.get(question, {}).get("p50_ms")
        for peer in PEERS:
            theirs = _peer_p50(results, peer, question)
            if theirs is not None and ours is not None:
                label = f"{question} p50: {peer} in-process / genostream over HTTP"
                ratio = f"{_num(_ratio(theirs, ours), 2)}×"
                rows.append((label, f"{ours:.2f} ms", f"{theirs:.2f} ms", ratio))
    ingest = results.get("ingest", {})
    loader_s = ingest.get("loader_s")
    comparisons = [
        (
            "ingest: genostream loader / engine's own file() ingest (lower is better)",
            ingest.get("engine_file_s"),
            True,
        ),
        (
            "ingest: seed's mmread + per-triplet loop (extrapolated) / genostream loader",
            ingest.get("seed", {}).get("total_s"),
            False,
        ),
        ("ingest: TileDB-SOMA read + ingest / genostream loader", _soma_ingest(results), False),
    ]
    for label, other, inverse in comparisons:
        if loader_s is None or other is None:
            continue
        ratio = _ratio(loader_s, other) if inverse else _ratio(other, loader_s)
        rows.append((label, f"{loader_s:.1f} s", f"{other:.1f} s", f"{_num(ratio, 2)}×"))
    scanpy_rss = results.get("peers", {}).get("scanpy", {}).get("peak_rss_mb")
    if scanpy_rss is not None and ingest.get("peak_rss_mb") is not None:
        rows.append(
            (
                "peak RSS: scanpy in memory / genostream loader",
                f"{ingest['peak_rss_mb']:.0f} MB",
                f"{scanpy_rss:.0f} MB",
                f"{_num(_ratio(scanpy_rss, ingest['peak_rss_mb']), 2)}×",
            )
        )
    return rows


def _contenders(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("genostream (HTTP)", results.get("queries", {})),
        ("genostream (SQL in-process)", results.get("genostream_inprocess", {})),
    ] + [(peer, results.get("peers", {}).get(peer, {})) for peer in PEERS]


def _soma_ingest(results: dict[str, Any]) -> float | None:
    soma = results.get("peers", {}).get("tiledbsoma", {})
    if "ingest_s" not in soma:
        return None
    return soma["ingest_s"] + soma.get("read_s", 0.0)


def render_markdown(results: dict[str, Any]) -> str:
    machine = results.get("machine", {})
    study = results.get("study", {})
    lines = [
        f"# genostream benchmark — preset `{results.get('preset')}`",
        "",
        f"Study: {_num(study.get('n_genes'))} genes × {_num(study.get('n_cells'))} cells, "
        f"{_num(study.get('nnz'))} non-zeros ({study.get('value_kind')}). "
        f"Machine: {machine.get('cores')} cores, {machine.get('ram_gb')} GB RAM, {machine.get('cpu_model')}. "
        f"Whole run: {_num(results.get('total_s'))} s.",
        "",
        "## Ratios (ratio > 1: genostream faster or leaner)",
        "",
        *table(("comparison", "genostream", "other", "ratio"), ratio_rows(results)),
        "",
        "## Goals (set for `--preset seed` on 2 cores / 24 GB)",
        "",
    ]
    if results.get("preset") != "seed":
        lines += [f"Measured at `{results.get('preset')}`, not at the reference size: indicative only.", ""]
    goal_rows = []
    for goal in results.get("goals", []):
        met = {True: "met", False: "**missed**", None: "not measured"}[goal["met"]]
        value = f"{_num(goal['value'], 2)} {goal['unit']}" if goal["value"] is not None else "—"
        by = goal.get("ratio_to_target")
        by_text = f"{by:.2f}× target" if by is not None else "—"
        why = goal.get("why", "") + (f" (evidence: {goal['evidence']})" if goal.get("evidence") else "")
        goal_rows.append((goal["label"], value, met, by_text, why))
    lines += table(
        ("goal", "measured", "status", "value / target", "likely cause and fix, if missed"), goal_rows
    )
    lines += ["", "## Exactness (rtol 1e-6 against numpy/scipy on the sparse matrix, zeros counted)", ""]
    exact_rows = []
    for who, part in _contenders(results):
        for question in QUESTIONS:
            check = part.get(question, {}) if isinstance(part, dict) else {}
            if isinstance(check, dict) and "exact" in check:
                wrong = check.get("n_not_exact", 0) + check.get("n_missing", 0)
                exact_rows.append(
                    (
                        who,
                        question,
                        _num(check["exact"]),
                        _num(check.get("max_rel_err"), 3),
                        _num(check.get("max_abs_err"), 3),
                        f"{wrong} / {check.get('n_compared')}",
                    )
                )
    header = ("contender", "question", "exact", "max rel. error", "max abs. error", "not exact / compared")
    lines += table(header, exact_rows)
    lines += ["", "## Queries over HTTP (genostream gateway, keep-alive session)", ""]
    query_rows = []
    for question in QUESTIONS:
        q = results.get("queries", {}).get(question)
        if isinstance(q, dict) and "p50_ms" in q:
            query_rows.append(
                (question, _num(q["n"]), _num(q["p50_ms"], 2), _num(q["p95_ms"], 2), _num(q["p99_ms"], 2))
            )
        elif isinstance(q, dict):
            query_rows.append((question, "—", "—", "—", q.get("error", "")))
    lines += table(("question", "requests", "p50 ms", "p95 ms", "p99 ms"), query_rows)
    tp = results.get("throughput", {})
    lines += [
        "",
        f"Throughput (correlation, {tp.get('clients')} concurrent clients on the same 2 cores, "
        f"{_num(tp.get('duration_s'))} s): **{_num(results.get('throughput_rps'))} requests/s**, "
        f"{_num(tp.get('errors'))} errors, p50 {_num(tp.get('latency_p50_ms'), 1)} ms.",
        "",
    ]
    lines += ["## Ingest and build", ""]
    ingest = results.get("ingest", {})
    seed_ingest = ingest.get("seed", {})
    lines += table(
        ("measure", "value"),
        [(key, _num(value, 2)) for key, value in ingest.items() if not isinstance(value, dict | list)]
        + [(f"seed.{key}", _num(value, 2)) for key, value in seed_ingest.items()]
        + [("dbt_build_s", _num(results.get("dbt_build_s"), 1))],
    )
    lines += ["", "## Peers (each in its own process; per-question latencies in-process, no HTTP)", ""]
    peer_rows = []
    for peer in PEERS:
        part = results.get("peers", {}).get(peer, {})
        if "skipped" in part or "error" in part:
            peer_rows.append((peer, part.get("skipped") or f"error: {part.get('error')}"))
            continue
        details = ", ".join(
            f"{k}={_num(v, 2)}" for k, v in part.items() if not isinstance(v, dict | list) and k != "exact"
        )
        for question in ("correlation", "variability"):
            q = part.get(question)
            if isinstance(q, dict) and "p50_ms" in q:
                details += (
                    f"; {question} n={q['n']} p50 {q['p50_ms']:.2f} ms p99 {q['p99_ms']:.2f} ms"
                    f" exact={_num(q.get('exact'))}"
                )
        peer_rows.append((peer, details))
    lines += table(("peer", "measurements"), peer_rows)
    lines += ["", "## Notes", ""] + [f"- {note}" for note in results.get("notes", [])]
    versions = ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items() if v)
    lines += ["", f"Machine: {machine.get('os')}, Python {machine.get('python')}; {versions}.", ""]
    return "\n".join(lines)


def render_chart(results: dict[str, Any], path: Path) -> None:
    """Two panels: p50 latency per question and contender (log scale), and ingest times."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5))
    contenders = _contenders(results)
    questions = ("correlation", "variability")
    width = 0.8 / len(contenders)
    for k, (name, part) in enumerate(contenders):
        values = [(part.get(q) or {}).get("p50_ms") if isinstance(part, dict) else None for q in questions]
        xs = [i + k * width for i, v in enumerate(values) if v]
        left.bar(xs, [v for v in values if v], width, label=name)
    left.set_xticks([i + 0.4 - width / 2 for i in range(len(questions))], questions)
    left.set_yscale("log")
    left.set_ylabel("p50 latency (ms, log scale)")
    left.set_title("Per-question latency")
    left.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.08), ncol=3, frameon=False)
    ingest = results.get("ingest", {})
    bars = {
        "genostream loader": ingest.get("loader_s"),
        "engine file() ingest": ingest.get("engine_file_s"),
        "seed mmread+loop (extrap.)": ingest.get("seed", {}).get("total_s"),
        "TileDB-SOMA read+ingest": _soma_ingest(results),
        "dbt build": results.get("dbt_build_s"),
    }
    shown = {k: v for k, v in bars.items() if v is not None}
    drawn = right.barh(list(shown), list(shown.values()), color="tab:gray")
    right.bar_label(drawn, fmt="%.1f s", padding=3, fontsize=8)
    right.set_xscale("log")
    right.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    right.set_xlabel("seconds (log scale)")
    right.set_title("Ingest and build")
    fig.suptitle(f"genostream benchmark — preset {results.get('preset')}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
