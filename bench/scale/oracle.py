"""The exact answers at any size, in bounded memory: streaming passes over the study's MatrixMarket file.

1. `profile`: per cell its total count (normalize_total needs it), per gene its stored entries (which genes
   the workload may pick); writes `profile.npz` and the workload (`bench.workload.make_workload_from`).
2. `check`: two more passes — per (gene, cell type) the sum and count of lognorm values, then the squared
   deviations from that mean (two-pass variances, as `bench.exact`), keeping on the way only the entries of
   the genes the questions and answers name. The result is a `StreamedOracle`: `bench.exact.ExactOracle` on
   those genes' rows, with every gene's per-type mean and variance, so the benchmark's own `check_*`
   functions compare the answers. Memory: genes × cell types accumulators, per-cell vectors, one block of
   entries and the sampled genes' entries — never the matrix.

Run as `python -m bench.scale.oracle profile|check WORK STUDY [options]` (a child of bench.scale).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bench.exact import ExactOracle, variance_with_zeros
from bench.measure import self_peak_rss_mb
from bench.runner import CHECKS, DATASET
from bench.scale.matrix_stream import Entries, stream_entries
from bench.study import StudyFiles, cell_scale, gene_names, read_cell_types, read_tsv_columns
from bench.workload import make_workload_from
from loader import read_header

PROFILE = "profile.npz"
WORKLOAD = "workload.json"
ANSWERS = "answers.json"  # the gateway's answers, by question (bench.scale.steps)
EXACT = "exact.json"


def study_cell_types(files: StudyFiles, column: str | None) -> np.ndarray:
    """Each matrix column's cell type (unannotated without metadata), as bench.study reads it."""
    barcodes = read_tsv_columns(files.barcodes)[0]
    if files.metadata is None or not column:
        return np.full(len(barcodes), "unannotated", dtype=object)
    return read_cell_types(files.metadata, barcodes, column)


def profile(files: StudyFiles) -> tuple[np.ndarray, np.ndarray, int]:
    """One pass: per cell the sum of its values, per gene its number of stored entries, and the entries."""
    header = read_header(files.matrix)
    totals = np.zeros(header.n_cols, dtype=np.float64)
    stored = np.zeros(header.n_rows, dtype=np.int64)
    nnz = 0
    for block in stream_entries(files.matrix):
        totals += np.bincount(block.cell, weights=block.value, minlength=header.n_cols)
        stored += np.bincount(block.gene, minlength=header.n_rows)
        nnz += block.value.size
    return totals, stored, nnz


class StreamedOracle(ExactOracle):
    """`ExactOracle` over the rows of a few genes (correlations), with every gene's per-cell-type mean and
    variance computed by the streaming passes (CVs, the top-variability check)."""

    def __init__(
        self,
        rows: sp.csr_matrix,
        row_genes: Sequence[str],
        all_genes: Sequence[str],
        cell_types: np.ndarray,
        moments: dict[str, tuple[np.ndarray, np.ndarray, int]],
    ) -> None:
        super().__init__(rows, row_genes, cell_types)
        self._cv_index = {g: i for i, g in enumerate(all_genes)}
        self._moments = moments
        self._n_genes = len(all_genes)

    def mean_var(self, cell_type: str) -> tuple[np.ndarray, np.ndarray, int]:
        if cell_type in self._moments:
            return self._moments[cell_type]
        return np.zeros(self._n_genes), np.full(self._n_genes, np.nan), 0  # no such cell: as ExactOracle


def build_oracle(
    files: StudyFiles,
    *,
    genes: Iterable[str],
    cell_types: np.ndarray,
    totals: np.ndarray | None,
) -> StreamedOracle:
    """Two streaming passes over the matrix (see the module's docstring); `totals` are the per-cell sums of
    counts (None when the values are already normalised: lognorm is the value)."""
    all_genes = gene_names(files)
    position = {g: i for i, g in enumerate(all_genes)}
    wanted = sorted({position[g] for g in genes})
    row_of = np.full(len(all_genes), -1, dtype=np.int64)
    row_of[wanted] = np.arange(len(wanted))
    type_names, type_of_cell = np.unique(np.asarray(cell_types).astype(str), return_inverse=True)
    n_types, n_genes, n_cells = len(type_names), len(all_genes), len(cell_types)
    scale = cell_scale(totals) if totals is not None else None

    def lognorm_blocks() -> Iterator[tuple[Entries, np.ndarray, np.ndarray]]:
        for block in stream_entries(files.matrix):
            x = np.log1p(block.value * scale[block.cell]) if scale is not None else block.value
            yield block, x, block.gene * n_types + type_of_cell[block.cell]

    sums = np.zeros(n_genes * n_types)
    stored = np.zeros(n_genes * n_types, dtype=np.int64)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for block, x, key in lognorm_blocks():
        sums += np.bincount(key, weights=x, minlength=sums.size)
        stored += np.bincount(key, minlength=stored.size)
        keep = row_of[block.gene] >= 0
        kept.append((row_of[block.gene[keep]], block.cell[keep], x[keep]))
    n_per_type = np.bincount(type_of_cell, minlength=n_types)
    mean = sums / np.tile(np.maximum(n_per_type, 1), n_genes)
    stored_ss = np.zeros(n_genes * n_types)
    for _, x, key in lognorm_blocks():
        deviation = x - mean[key]
        stored_ss += np.bincount(key, weights=deviation * deviation, minlength=stored_ss.size)
    moments: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for t, name in enumerate(type_names):
        m = mean.reshape(n_genes, n_types)[:, t]
        ss = stored_ss.reshape(n_genes, n_types)[:, t]
        k = stored.reshape(n_genes, n_types)[:, t]
        moments[str(name)] = (m, variance_with_zeros(m, ss, k, int(n_per_type[t])), int(n_per_type[t]))
    empty = np.zeros(0, dtype=np.int64)
    rows = np.concatenate([k[0] for k in kept]) if kept else empty
    cells = np.concatenate([k[1] for k in kept]) if kept else empty
    values = np.concatenate([k[2] for k in kept]) if kept else empty.astype(np.float64)
    matrix = sp.csr_matrix((values, (rows, cells)), shape=(len(wanted), n_cells), dtype=np.float64)
    matrix.sum_duplicates()
    return StreamedOracle(matrix, [all_genes[i] for i in wanted], all_genes, cell_types, moments)


def genes_named(workload: dict[str, Any], answers: Iterable[dict[str, Any]]) -> set[str]:
    """Every gene whose row a correlation check needs: the questions' genes and the co-expressed genes of
    every set of answers."""
    genes = {r[k] for r in workload.get("correlation", []) for k in ("gene_a", "gene_b")}
    genes |= {r["gene"] for r in workload.get("coexpression", [])}
    for part in answers:
        for answer in part.get("coexpression") or []:
            genes |= {row[0] for row in answer}
    return genes


def check_all(oracle: ExactOracle, workload: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """Each checkable question's answers against the oracle (`bench.runner.CHECKS`); `exact` when every
    compared value is within the tolerance and at least one was compared."""
    result: dict[str, Any] = {}
    for question, check in CHECKS.items():
        if answers.get(question):
            result[question] = check(oracle, workload[question], answers[question]).as_dict()
    result["exact"] = bool(result) and all(part["exact"] for part in result.values())
    return result


def peer_answers(work: Path, peers: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The answers each peer left in WORK/<peer>.result.json (bench.runner.Run.peer), by question."""
    found = {}
    for name in peers:
        path = work / f"{name}.result.json"
        if path.exists():
            raw = json.loads(path.read_text())
            found[name] = {q: v["answers"] for q, v in raw.items() if isinstance(v, dict) and "answers" in v}
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale.oracle", description=__doc__)
    parser.add_argument("action", choices=("profile", "check"))
    parser.add_argument("work", type=Path)
    parser.add_argument("study", type=Path)
    parser.add_argument("--cell-type-column")
    parser.add_argument("--value-kind", default="counts")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--coexpression", type=int, default=20)
    parser.add_argument("--peers", default="", help="comma-separated peers whose answers to check")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files = StudyFiles.find(args.study)
    cell_types = study_cell_types(files, args.cell_type_column)
    if args.action == "profile":
        totals, stored, nnz = profile(files)
        np.savez(args.work / PROFILE, totals=totals, stored=stored)
        workload = make_workload_from(
            gene_names(files),
            stored,
            cell_types,
            dataset=DATASET,
            n=args.queries,
            n_coexpression=args.coexpression,
            n_differential=0,
        )
        (args.work / WORKLOAD).write_text(json.dumps(workload))
        summary: dict[str, Any] = {
            "nnz": nnz,
            "n_cells": int(totals.size),
            "n_genes": int(stored.size),
            "eligible_genes": workload["n_eligible_genes"],
            "cell_types": len(workload["cell_types"]),
        }
    else:
        workload = json.loads((args.work / WORKLOAD).read_text())
        gateway = json.loads((args.work / ANSWERS).read_text())
        peers = peer_answers(args.work, [p for p in args.peers.split(",") if p])
        counted = np.load(args.work / PROFILE)["totals"] if args.value_kind == "counts" else None
        genes = genes_named(workload, [gateway, *peers.values()])
        oracle = build_oracle(files, genes=genes, cell_types=cell_types, totals=counted)
        summary = {
            "oracle_genes": len(genes),
            "gateway": check_all(oracle, workload, gateway),
            "peers": {name: check_all(oracle, workload, answers) for name, answers in peers.items()},
        }
        summary["exact"] = summary["gateway"]["exact"]
    summary.update(
        seconds=round(time.perf_counter() - started, 2), peak_rss_mb_self=round(self_peak_rss_mb(), 1)
    )
    out = args.work / (EXACT if args.action == "check" else "profile.json")
    out.write_text(json.dumps(summary, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
