"""One benchmark run, stage after stage, on one embedded store that only one process holds at a time:
study → ingest (loader, engine file(), seed) → dbt build → export → seed SQL → gateway → peers → report."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import gateway_client, goals, report
from bench.errors import BenchError
from bench.exact import (
    Comparison,
    ExactOracle,
    agreement,
    check_coexpression,
    check_correlation,
    check_variability,
)
from bench.machine import load_average, machine_info
from bench.measure import run_child
from bench.peers.protocol import PeerContext
from bench.presets import Preset
from bench.study import StudyFiles, read_study
from bench.workload import HTTP_QUESTIONS, make_workload

REPO = Path(__file__).resolve().parents[1]
DATASET = "bench"

IN_MEMORY_PEERS = ("duckdb", "scanpy", "tiledbsoma")
AGREEMENT = ("de_wilcoxon",)  # checked against the gateway's answers (see check_agreement)
# Each checkable question's comparison of (oracle, requests, answers) with the exact values.
CHECKS: dict[str, Callable[[ExactOracle, Any, Any], Comparison]] = {
    "correlation": check_correlation,
    "variability": check_variability,
    "coexpression": check_coexpression,
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def stage(name: str) -> Iterator[None]:
    log(f"{name} …")
    start = time.perf_counter()
    yield
    log(f"{name} done in {time.perf_counter() - start:.1f} s")


class Run:
    """Paths and environment of one run: DIR/study (reused when complete), DIR/store (fresh), DIR/work."""

    def __init__(
        self,
        preset: Preset,
        out: Path,
        *,
        study_dir: Path | None = None,
        peers: bool = True,
        peer_memory_limit_mb: int | None = None,
        peer_time_limit_s: float | None = None,
    ) -> None:
        self.preset, self.out, self.with_peers = preset, out.resolve(), peers
        self.peer_memory_limit_mb = peer_memory_limit_mb  # each peer's address space (None: no limit)
        self.peer_time_limit_s = peer_time_limit_s  # each peer's wall time (None: no limit)
        self.study_dir = (study_dir or self.out / "study").resolve()
        self.store = self.out / "store"
        self.work = self.out / "work"
        self.logs = self.out / "logs"
        self.env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(self.store)}
        self.results: dict[str, Any] = {"preset": preset.name, "notes": []}

    def note(self, text: str) -> None:
        self.results["notes"].append(text)

    # ----- stages ----------------------------------------------------------------------------------------

    def make_study(self) -> None:
        marker = self.study_dir / ".complete"
        if marker.exists():
            self.note(f"study reused from {self.study_dir}")
            return
        shutil.rmtree(self.study_dir, ignore_errors=True)
        p = self.preset
        cmd = [sys.executable, "-m", "loader", "synth", str(self.study_dir), "--cells", str(p.cells)]
        cmd += ["--genes", str(p.genes), "--nnz", str(p.nnz), "--seed", str(p.seed)]
        child = run_child(cmd, log=self.logs / "synth.log", env=self.env, cwd=REPO)
        if child.returncode != 0:
            raise BenchError(f"generating the study failed: {child.tail(2)}")
        self.results["synth_s"] = round(child.wall_s, 2)
        self.results["synth_peak_rss_mb"] = round(child.peak_rss_mb, 1)
        marker.touch()

    def ingest(self) -> None:
        from bench.ingest import measure_ingest

        shutil.rmtree(self.store, ignore_errors=True)
        self.results["ingest"] = measure_ingest(
            self.study_dir, store=self.store, dataset=DATASET, work_dir=self.work / "ingest", env=self.env
        )

    def seed_ingest(self) -> None:
        self.results["ingest"]["seed"] = self.peer("seed_ingest", "bench.peers.seed_ingest")

    def dbt_build(self) -> None:
        dbt = Path(sys.executable).with_name("dbt")
        cmd = [str(dbt), "build", "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO)]
        cmd += [
            "--target-path",
            str(self.work / "dbt" / "target"),
            "--log-path",
            str(self.work / "dbt" / "logs"),
        ]
        child = run_child(cmd, log=self.logs / "dbt_build.log", env=self.env, cwd=REPO)
        if child.returncode != 0:
            raise BenchError(f"dbt build failed (see {child.log}): {child.tail(3)}")
        self.results["dbt_build_s"] = round(child.wall_s, 2)
        self.results["dbt_build_peak_rss_mb"] = round(child.peak_rss_mb, 1)

    def export(self) -> dict[str, Any]:
        exported = self.peer("export", "bench.export", parquet=True)
        if "manifest" not in exported:
            raise BenchError(f"reading the load manifest failed: {exported.get('error')}")
        return exported

    # ----- peers -----------------------------------------------------------------------------------------

    def context(self, *, parquet: bool = False) -> PeerContext:
        manifest = self.results.get("manifest", {})
        return PeerContext(
            study_dir=self.study_dir,
            cell_type_column=manifest.get("cell_type_column") or None,
            value_kind=manifest.get("value_kind", "counts"),
            dataset=DATASET,
            workload=self.work / "workload.json",
            work_dir=self.work,
            expression_parquet=self.work / "expression.parquet" if parquet else None,
            cells_parquet=self.work / "cells.parquet" if parquet else None,
            max_samples=dict(self.preset.peer_samples),
        )

    def peer(self, name: str, module: str, *, parquet: bool = False) -> dict[str, Any]:
        """Run one peer module in its own process; its JSON result plus wall time and peak RSS."""
        context_path, result_path = self.work / f"{name}.context.json", self.work / f"{name}.result.json"
        self.work.mkdir(parents=True, exist_ok=True)
        context_path.write_text(self.context(parquet=parquet).model_dump_json())
        result_path.unlink(missing_ok=True)
        with stage(f"peer {name}"):
            child = run_child(
                [sys.executable, "-m", module, str(context_path), str(result_path)],
                log=self.logs / f"{name}.log",
                env=self.env,
                cwd=REPO,
                memory_limit_mb=self.peer_memory_limit_mb,
                time_limit_s=self.peer_time_limit_s,
            )
        measured = {"wall_s": round(child.wall_s, 2), "peak_rss_mb": round(child.peak_rss_mb, 1)}
        if child.time_limit_s is not None:
            measured["stopped_at_limit_s"] = child.time_limit_s
        if not result_path.exists():
            return {"error": f"{child.how_it_ended()} without a result: {child.tail(2)}", **measured}
        return {**json.loads(result_path.read_text()), **measured}

    # ----- gateway -----------------------------------------------------------------------------------------

    def http(self, workload: dict[str, Any]) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        queries: dict[str, Any] = {}
        with gateway_client.Gateway(self.store, self.logs / "gateway.log") as gateway:
            self.results["gateway_start_s"] = round(gateway.start_s or 0.0, 3)
            self.results["http_floor"] = gateway_client.http_floor(gateway)
            for question in HTTP_QUESTIONS:
                with stage(f"HTTP {question} × {len(workload[question])}"):
                    try:
                        timed = gateway_client.time_queries(gateway, question, workload[question], DATASET)
                    except gateway_client.GatewayError as exc:
                        queries[question] = {"error": str(exc)}
                        continue
                queries[question] = {**timed["latency"], "warmup_requests": timed["warmup_requests"]}
                answers[question] = timed["answers"]
            calls = [gateway_client.build_call("correlation", r, DATASET) for r in workload["correlation"]]
            with stage(f"throughput, {self.preset.throughput_clients} clients"):
                self.results["throughput"] = gateway_client.throughput(
                    gateway,
                    calls,
                    clients=self.preset.throughput_clients,
                    duration_s=self.preset.throughput_s,
                )
        self.results["throughput_rps"] = self.results["throughput"]["rps"]
        self.results["queries"] = queries
        return answers

    # ----- exactness ---------------------------------------------------------------------------------------

    def check(
        self, oracle: ExactOracle, workload: dict[str, Any], part: dict[str, Any], answers: dict
    ) -> None:
        """Replace answers by their comparison with the exact values (exact, max_rel_err, counts)."""
        for question, check in CHECKS.items():
            if question in answers and isinstance(part.get(question), dict):
                comparison = check(oracle, workload[question], answers[question])
                part[question].update(comparison.as_dict())

    def peer_section(self, name: str, raw: dict[str, Any], oracle: ExactOracle, workload: dict) -> dict:
        if "skipped" in raw or "error" in raw:
            return raw
        answers = {}
        section = dict(raw)
        for question in CHECKS:
            if isinstance(raw.get(question), dict) and "answers" in raw[question]:
                answers[question] = raw[question]["answers"]
                section[question] = raw[question]["latency"]
        self.check(oracle, workload, section, answers)
        checked = [section[q] for q in answers]
        section["exact"] = bool(checked) and all(c.get("exact") for c in checked)
        errors = [c["max_rel_err"] for c in checked if c.get("max_rel_err") is not None]
        section["max_rel_err"] = max(errors) if errors else None
        return section

    def check_agreement(self, section: dict[str, Any], raw: dict[str, Any], answers: dict[str, Any]) -> None:
        """Questions without an oracle at this size (Wilcoxon of every gene): the peer's answers against the
        gateway's, gene by gene."""
        for question in AGREEMENT:
            peer = raw.get(question)
            if isinstance(peer, dict) and "answers" in peer and question in answers:
                section[question] = {
                    **peer["latency"],
                    **agreement(peer["answers"], answers[question]).as_dict(),
                }

    # ----- the whole run -----------------------------------------------------------------------------------

    def execute(self) -> dict[str, Any]:
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        self.results["started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.results["machine"] = machine_info()
        with stage("study"):
            self.make_study()
        with stage("ingest (loader, engine file())"):
            self.ingest()
        self.seed_ingest()
        with stage("dbt build"):
            self.dbt_build()
        exported = self.export()
        self.results["manifest"] = exported["manifest"]
        self.results["duckdb_export_s"] = exported.get("export_s")
        with stage("exact oracle (numpy/scipy on the sparse matrix)"):
            study = read_study(
                StudyFiles.find(self.study_dir),
                cell_type_column=self.results["manifest"]["cell_type_column"],
                value_kind=self.results["manifest"]["value_kind"],
            )
            oracle = ExactOracle(study.lognorm(), study.genes, study.cell_types)
            workload = make_workload(
                study,
                dataset=DATASET,
                n=self.preset.queries,
                n_coexpression=self.preset.coexpression,
                n_differential=self.preset.differential,
            )
            (self.work / "workload.json").write_text(json.dumps(workload))
        self.results["study"] = {
            "n_genes": len(study.genes),
            "n_cells": len(study.barcodes),
            "nnz": study.nnz,
            "value_kind": study.value_kind,
            "cell_types": len(workload["cell_types"]),
            "eligible_genes": workload["n_eligible_genes"],
        }
        del study
        peers: dict[str, Any] = {}
        peers["seed_sql"] = self.peer_section(
            "seed_sql", self.peer("seed_sql", "bench.peers.seed_sql"), oracle, workload
        )
        self.results["genostream_inprocess"] = self.peer_section(
            "genostream_sql", self.peer("genostream_sql", "bench.peers.genostream_sql"), oracle, workload
        )
        answers = self.http(workload)
        with stage("exactness of the HTTP answers"):
            self.check(oracle, workload, self.results["queries"], answers)
        for name in IN_MEMORY_PEERS:
            if not self.with_peers:
                peers[name] = {"skipped": "peers disabled (--no-peers)"}
                continue
            raw = self.peer(name, f"bench.peers.{name}_peer", parquet=name == "duckdb")
            peers[name] = self.peer_section(name, raw, oracle, workload)
            self.check_agreement(peers[name], raw, answers)
        self.results["peers"] = peers
        self.results["first_answer"] = self.first_answer()
        self.standard_notes(workload)
        self.results["total_s"] = round(time.perf_counter() - started, 1)
        self.results["machine"]["load_average"]["end"] = load_average()
        self.results["goals"] = goals.judge(self.results)
        self.write()
        return self.results

    def first_answer(self) -> dict[str, dict[str, float]]:
        """Per contender, seconds from the study's files to its first correlation answer: what it must do
        first (ours: load, dbt build, start the gateway; scanpy: read; TileDB-SOMA: read + ingest; DuckDB:
        export of the marts to Parquet + attach), plus that first request."""
        r = self.results
        peers = r.get("peers", {})

        def first_s(part: dict[str, Any]) -> float | None:
            first = (part.get("correlation") or {}).get("first_ms")
            return None if first is None else first / 1000.0

        steps: dict[str, dict[str, float | None]] = {
            "genostream": {
                "load_s": r.get("ingest", {}).get("loader_s"),
                "dbt_build_s": r.get("dbt_build_s"),
                "gateway_start_s": r.get("gateway_start_s"),
                "first_query_s": first_s(r.get("queries", {})),
            },
            "scanpy": {"read_s": peers.get("scanpy", {}).get("load_s"), "first_query_s": None},
            "tiledbsoma": {
                "read_s": peers.get("tiledbsoma", {}).get("read_s"),
                "ingest_s": peers.get("tiledbsoma", {}).get("ingest_s"),
                "first_query_s": None,
            },
            "duckdb": {
                "export_s": r.get("duckdb_export_s"),
                "attach_s": peers.get("duckdb", {}).get("attach_s"),
                "first_query_s": None,
            },
        }
        for peer in ("scanpy", "tiledbsoma", "duckdb"):
            steps[peer]["first_query_s"] = first_s(peers.get(peer, {}))
        result = {}
        for name, parts in steps.items():
            if all(v is not None for v in parts.values()):
                done = {k: round(float(v), 3) for k, v in parts.items() if v is not None}
                result[name] = {**done, "total_s": round(sum(done.values()), 2)}
        return result

    def standard_notes(self, workload: dict[str, Any]) -> None:
        """What a reader needs to interpret the numbers (computed from this run where they vary)."""
        p = self.preset
        floor = self.results.get("http_floor", {}).get("p50_ms")
        samples = ", ".join(f"{k} {v}" for k, v in p.peer_samples.items())
        warmup = gateway_client.WARMUP_REQUESTS
        self.note(
            "Peers and `genostream_inprocess` answer in-process (no HTTP, no JSON); genostream's `queries` "
            "go through HTTP, Flask and JSON on the same 2 cores, so HTTP-vs-in-process ratios are "
            f"conservative for genostream. HTTP floor (GET /health p50): {floor} ms."
        )
        self.note(
            f"Workload (seed {workload['seed']}): gene pairs drawn among the {workload['n_eligible_genes']} "
            "genes expressed in ≥ 1% of cells, 1–3 random cell types per request; "
            f"{warmup} untimed warm-up requests per question. Co-expression: {p.coexpression} requests "
            f"(genome-wide each). Peers answer the first requests of the same workload ({samples})."
        )
        self.note(
            "seed_sql runs the seed's queries on `marts.expression.lognorm` (same engine, same data), so "
            "the error measured is the seed's zeros-ignored logic alone."
        )
        seed = self.results.get("ingest", {}).get("seed", {})
        if seed.get("extrapolated"):
            scipy_version = self.results["machine"]["versions"]["scipy"]
            self.note(
                f"Seed ingest: mmread measured in full with scipy {scipy_version}, whose C++ reader is far "
                "faster than the pure-Python one of scipy < 1.12 (this flatters the seed); the per-triplet "
                f"loop and the insert were measured on {seed.get('sample_triplets'):,} triplets and "
                f"extrapolated to {seed.get('nnz'):,}."
            )
        self.note(
            "scanpy reads the matrix as float64 (its default is float32), so differences are of method, "
            "not input rounding. TileDB-SOMA is written with the core SOMA API: tiledbsoma 2.2's "
            "from_anndata drops obs' soma_joinid under pandas 3, and 2.3 requires pandas < 3."
        )

    def write(self) -> None:
        (self.out / "results.json").write_text(json.dumps(self.results, indent=2, default=float))
        (self.out / "results.md").write_text(report.render_markdown(self.results))
        try:
            report.render_chart(self.results, self.out / "results.png")
        except ImportError:
            self.note("no chart: matplotlib is not installed (pip install -e '.[bench]')")
            (self.out / "results.md").write_text(report.render_markdown(self.results))
