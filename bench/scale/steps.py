"""One size of the scale run, step after step, each a whole child process (bench.runner.Run's stages, the
streaming oracle, the peers under a memory limit); every finished step is recorded before the next starts."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench import gateway_client
from bench.errors import BenchError
from bench.measure import peak_rss_mb, run_child
from bench.presets import Preset
from bench.runner import DATASET, REPO, Run, log, stage
from bench.scale import oracle
from bench.scale.records import Records
from bench.scale.sizes import GENES, NNZ_PER_CELL, cells_for, label
from bench.study import StudyFiles
from loader import read_header

QUESTIONS = ("correlation", "variability", "coexpression", "markers")
PEERS = ("duckdb", "scanpy", "tiledbsoma")
CORE_STEPS = ("study", "load", "build", "profile", "queries")
MB = 1 << 20


@dataclass
class ScaleSettings:
    """What every size shares: the output directory, the study's shape, the sampling and the peers."""

    out: Path
    genes: int = GENES
    nnz_per_cell: int = NNZ_PER_CELL
    seed: int = 42
    queries: int = 100
    coexpression: int = 20
    peers: bool = True
    peer_memory_limit_mb: int | None = 20 * 1024
    peer_time_limit_s: float | None = None
    keep_stores: bool = False
    peer_samples: dict[str, int] = field(default_factory=lambda: {"correlation": 50, "variability": 10})

    def shaping(self) -> dict[str, object]:
        """The options a directory's studies and records depend on: a rerun must repeat them."""
        keys = ("genes", "nnz_per_cell", "seed", "queries", "coexpression", "peers")
        return {key: getattr(self, key) for key in keys}

    def described(self) -> dict[str, object]:
        """What results.json records of the run's settings: the shaping options and the peers' limits."""
        limits = {
            "peer_memory_limit_mb": self.peer_memory_limit_mb,
            "peer_time_limit_s": self.peer_time_limit_s,
        }
        return {**self.shaping(), **limits}

    def pin(self) -> None:
        """Write the shaping options to OUT/settings.json on the first run; refuse a rerun that differs."""
        path = self.out / "settings.json"
        if not path.exists():
            self.out.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(self.shaping(), indent=2) + "\n")
            return
        pinned = json.loads(path.read_text())
        changed = [f"{k} {pinned.get(k)!r} → {v!r}" for k, v in self.shaping().items() if pinned.get(k) != v]
        if changed:
            options = "; ".join(changed)
            raise BenchError(
                f"{self.out} was run with other options ({options}): repeat them or another --out"
            )

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps of one size, in order (the peers' need the store's Parquet export first)."""
        return (*CORE_STEPS, "export", *PEERS, "exact") if self.peers else (*CORE_STEPS, "exact")


def directory_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MB if path.exists() else 0.0


def latency_summary(latency: dict[str, Any]) -> dict[str, Any]:
    return {k: latency.get(k) for k in ("p50_ms", "p99_ms", "first_ms", "n")}


def peer_summary(raw: dict[str, Any]) -> dict[str, Any]:
    """A peer's result without its answers (they stay in WORK/<peer>.result.json for the exact step)."""
    summary: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and "latency" in value:
            if value["latency"]:
                summary[key] = latency_summary(value["latency"])
        elif not isinstance(value, dict | list):
            summary[key] = value
    return summary


class SizeRun:
    """The steps of one size over DIR/studies/<size> (kept) and DIR/sizes/<size> (store, work, logs)."""

    def __init__(self, settings: ScaleSettings, nnz: int, records: Records) -> None:
        self.settings, self.nnz, self.records = settings, nnz, records
        name = label(nnz)
        preset = Preset(
            name,
            cells=cells_for(nnz, settings.nnz_per_cell),
            genes=settings.genes,
            nnz=nnz,
            seed=settings.seed,
            queries=settings.queries,
            coexpression=settings.coexpression,
            differential=0,
            peer_samples=dict(settings.peer_samples),
        )
        self.run = Run(
            preset,
            settings.out / "sizes" / name,
            study_dir=settings.out / "studies" / name,
            peers=settings.peers,
            peer_memory_limit_mb=settings.peer_memory_limit_mb,
            peer_time_limit_s=settings.peer_time_limit_s,
        )
        profiled = records.get(nnz, "profile")
        if profiled and "manifest" in profiled:
            self.run.results["manifest"] = profiled["manifest"]

    def execute(self) -> None:
        """Every step not yet recorded, in order; a step that fails stops this size (rerun to retry it)."""
        steps = self.settings.steps
        for step in steps:
            if self.records.done(self.nnz, step):
                continue
            dropped = self.records.drop_after(self.nnz, step, steps)
            if dropped:
                log(f"{label(self.nnz)}: {step} runs again, so {', '.join(dropped)} will too")
            with stage(f"{label(self.nnz)}: {step}"):
                record = getattr(self, f"step_{step}")()
            self.records.put(self.nnz, step, {"nnz_target": self.nnz, **record})
            if step == ("export" if self.settings.peers else "queries") and not self.settings.keep_stores:
                shutil.rmtree(self.run.store, ignore_errors=True)  # the rest reads the study files only

    # ----- steps: each returns its record ----------------------------------------------------------------

    def step_study(self) -> dict[str, Any]:
        reused = (self.run.study_dir / ".complete").exists()
        self.run.make_study()
        files = StudyFiles.find(self.run.study_dir)
        header = read_header(files.matrix)
        record: dict[str, Any] = {
            "nnz": header.n_entries,
            "n_genes": header.n_rows,
            "n_cells": header.n_cols,
            "matrix_mb": round(files.matrix.stat().st_size / MB, 1),
            "reused": reused,
        }
        if not reused:
            record["synth_s"] = self.run.results["synth_s"]
            record["synth_peak_rss_mb"] = self.run.results["synth_peak_rss_mb"]
        return record

    def step_load(self) -> dict[str, Any]:
        self.run.ingest()
        ingest = self.run.results["ingest"]
        return {
            "load_s": ingest["loader_s"],
            "load_peak_rss_mb": ingest["peak_rss_mb"],
            "engine_file_s": ingest["engine_file_s"],
            "engine_peak_rss_mb": ingest["engine_peak_rss_mb"],
            "loader_vs_engine": ingest["loader_vs_engine"],
        }

    def step_build(self) -> dict[str, Any]:
        self.run.dbt_build()
        return {
            "build_s": self.run.results["dbt_build_s"],
            "build_peak_rss_mb": self.run.results["dbt_build_peak_rss_mb"],
            "store_mb": round(directory_mb(self.run.store), 1),
        }

    def step_profile(self) -> dict[str, Any]:
        """The load manifest from the store, then the oracle's first pass and the workload (a child each)."""
        exported = self.run.peer("manifest", "bench.export")
        if "manifest" not in exported:
            raise BenchError(f"reading the load manifest failed: {exported.get('error')}")
        manifest = exported["manifest"]
        self.run.results["manifest"] = manifest
        child = self.oracle_child("profile", manifest)
        summary = json.loads((self.run.work / "profile.json").read_text())
        return {
            "manifest": manifest,
            "profile_s": round(child.wall_s, 2),
            "profile_peak_rss_mb": round(child.peak_rss_mb, 1),
            **{k: summary[k] for k in ("nnz", "eligible_genes", "cell_types")},
        }

    def step_queries(self) -> dict[str, Any]:
        """The gateway on the store: its start, each question's latencies, its peak RSS over all of them."""
        workload = json.loads((self.run.work / oracle.WORKLOAD).read_text())
        record: dict[str, Any] = {}
        answers: dict[str, Any] = {}
        with gateway_client.Gateway(self.run.store, self.run.logs / "gateway.log") as gateway:
            record["gateway_start_s"] = round(gateway.start_s or 0.0, 3)
            for question in QUESTIONS:
                try:
                    timed = gateway_client.time_queries(gateway, question, workload[question], DATASET)
                except (gateway_client.GatewayError, requests.RequestException) as exc:
                    record[question] = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
                    continue  # a question that fails (or times out) at this size is a result
                record[question] = latency_summary(timed["latency"])
                answers[question] = timed["answers"]
            assert gateway.process is not None
            record["gateway_peak_rss_mb"] = round(peak_rss_mb(gateway.process.pid) or 0.0, 1)
        (self.run.work / oracle.ANSWERS).write_text(json.dumps(answers))
        return record

    def step_export(self) -> dict[str, Any]:
        exported = self.run.export()
        parquet = [self.run.work / "expression.parquet", self.run.work / "cells.parquet"]
        return {
            "export_s": exported.get("export_s"),
            "parquet_mb": round(sum(p.stat().st_size for p in parquet if p.exists()) / MB, 1),
        }

    def peer(self, name: str) -> dict[str, Any]:
        raw = self.run.peer(name, f"bench.peers.{name}_peer", parquet=name == "duckdb")
        return peer_summary(raw)

    def step_duckdb(self) -> dict[str, Any]:
        record = self.peer("duckdb")
        if "skipped" not in record:  # kept for a rerun once duckdb is installed (the store is gone by then)
            for path in (self.run.work / "expression.parquet", self.run.work / "cells.parquet"):
                path.unlink(missing_ok=True)
        return record

    def step_scanpy(self) -> dict[str, Any]:
        return self.peer("scanpy")

    def step_tiledbsoma(self) -> dict[str, Any]:
        record = self.peer("tiledbsoma")
        shutil.rmtree(self.run.work / "soma", ignore_errors=True)
        return record

    def step_exact(self) -> dict[str, Any]:
        manifest = self.run.results["manifest"]
        child = self.oracle_child("check", manifest)
        result = json.loads((self.run.work / oracle.EXACT).read_text())
        return {
            "exact": result["exact"],
            "gateway": result["gateway"],
            "peers": result["peers"],
            "oracle_genes": result["oracle_genes"],
            "oracle_s": round(child.wall_s, 2),
            "oracle_peak_rss_mb": round(child.peak_rss_mb, 1),
        }

    def oracle_child(self, action: str, manifest: dict[str, Any]):
        s = self.settings
        cmd = [
            sys.executable,
            "-m",
            "bench.scale.oracle",
            action,
            str(self.run.work),
            str(self.run.study_dir),
        ]
        cmd += ["--value-kind", manifest.get("value_kind") or "counts"]
        if manifest.get("cell_type_column"):
            cmd += ["--cell-type-column", manifest["cell_type_column"]]
        cmd += ["--queries", str(s.queries), "--coexpression", str(s.coexpression)]
        if s.peers:
            cmd += ["--peers", ",".join(PEERS)]
        self.run.work.mkdir(parents=True, exist_ok=True)
        child = run_child(cmd, log=self.run.logs / f"oracle_{action}.log", env=self.run.env, cwd=REPO)
        if child.returncode != 0:
            raise BenchError(f"the streaming oracle ({action}) {child.how_it_ended()}: {child.tail(2)}")
        return child
