"""Write a MatrixMarket study as an AnnData .h5ad (CSR, float32 — as CELLxGENE ships), in bounded memory.

`python -m bench.h5ad_study STUDY_DIR OUT.h5ad`. The body is gene-sorted, an .h5ad's X is cell-major, so the
entries are bucketed by cell range into temporary binary files in one streaming pass, then each bucket is
sorted and written at its place in X/data and X/indices: peak memory is one bucket (~130 MB at 170M
non-zeros), whatever the study's size. obs (the metadata, categoricals for group columns) and var are written
by anndata itself; X is written with h5py in anndata's `csr_matrix` encoding.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

BUCKET_ENTRIES = 12_000_000
ENTRY = np.dtype([("cell", np.int32), ("gene", np.int32), ("value", np.float32)])


def _frames(study_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """obs (one row per matrix column, metadata where there is some) and var, and the matrix file."""
    from loader import StudyFiles, detect_study, open_study

    files = detect_study(study_dir)
    if not isinstance(files, StudyFiles):
        raise SystemExit(f"{study_dir}: not a MatrixMarket study")
    study = open_study(study_dir)
    var = pd.DataFrame(index=pd.Index(study.genes.unique, dtype=object))
    if any(study.genes.gene_ids):
        var["gene_ids"] = np.array(study.genes.gene_ids, dtype=object)
    obs = pd.DataFrame(index=pd.Index(study.barcodes, dtype=object))
    if files.metadata is not None:
        table = pd.read_csv(files.metadata, sep="\t", skiprows=[1], dtype=str, keep_default_na=False)
        table = table.set_index(table.columns[0])
        kinds = dict(zip(study.metadata.columns[1:], study.metadata.kinds[1:], strict=True))
        table = table.reindex(obs.index)
        for column, kind in kinds.items():
            values = table[column]
            if kind == "numeric":
                obs[column] = pd.to_numeric(values.replace({"": None, "NA": None}), errors="coerce")
            else:
                obs[column] = pd.Categorical(values.astype(object).where(values.notna(), None))
    return obs, var, files.matrix


def write_h5ad(study_dir: Path, out: Path, *, work_dir: Path | None = None) -> dict[str, float]:
    """Convert; returns sizes and timings. The file is written next to `out` and renamed when complete."""
    import anndata
    import h5py

    from loader import MatrixReader, read_header

    started = time.perf_counter()
    obs, var, matrix = _frames(study_dir)
    header = read_header(matrix)
    n_cells, n_genes = len(obs), len(var)
    per_cell = np.zeros(n_cells, dtype=np.int64)
    temp = Path(tempfile.mkdtemp(prefix="h5ad-buckets-", dir=work_dir))
    try:
        # pass 1: stream the body once, bucket entries by cell range (bucket width from the average density)
        cells_per_bucket = max(1, int(BUCKET_ENTRIES * n_cells / max(1, header.n_entries)))
        n_buckets = -(-n_cells // cells_per_bucket)
        handles = [(temp / f"{b}.bin").open("wb") for b in range(n_buckets)]
        try:
            for batch in MatrixReader(header).batches():
                genes = batch.column(0).to_numpy().astype(np.int32) - 1
                cells = batch.column(1).to_numpy().astype(np.int32) - 1
                values = batch.column(2).to_numpy().astype(np.float32)
                _count(per_cell, cells)
                bucket = cells // cells_per_bucket
                order = np.argsort(bucket, kind="stable")
                bounds = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
                entries = np.empty(len(cells), dtype=ENTRY)
                entries["cell"], entries["gene"], entries["value"] = cells, genes, values
                entries = entries[order]
                for b in range(n_buckets):
                    if bounds[b + 1] > bounds[b]:
                        handles[b].write(entries[bounds[b] : bounds[b + 1]].tobytes())
        finally:
            for handle in handles:
                handle.close()
        parsed = time.perf_counter() - started
        indptr = np.concatenate([[0], np.cumsum(per_cell)])
        nnz = int(indptr[-1])

        partial = out.with_name(out.name + ".partial")
        with pd.option_context("future.infer_string", False):
            anndata.AnnData(obs=obs, var=var).write_h5ad(partial)
        with h5py.File(partial, "a") as handle:
            group = handle.create_group("X")
            group.attrs["encoding-type"] = "csr_matrix"
            group.attrs["encoding-version"] = "0.1.0"
            group.attrs["shape"] = np.array([n_cells, n_genes], dtype=np.int64)
            data = group.create_dataset("data", shape=(nnz,), dtype=np.float32)
            indices = group.create_dataset("indices", shape=(nnz,), dtype=np.int32)
            group.create_dataset("indptr", data=indptr.astype(np.int64))
            # pass 2: each bucket sorted by (cell, gene) lands at its cells' place
            for b in range(n_buckets):
                entries = np.fromfile(temp / f"{b}.bin", dtype=ENTRY)
                (temp / f"{b}.bin").unlink()
                if not len(entries):
                    continue
                entries = entries[np.lexsort((entries["gene"], entries["cell"]))]
                start = int(indptr[b * cells_per_bucket])
                data[start : start + len(entries)] = entries["value"]
                indices[start : start + len(entries)] = entries["gene"]
        partial.replace(out)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return {
        "nnz": nnz,
        "n_cells": n_cells,
        "n_genes": n_genes,
        "h5ad_mb": round(out.stat().st_size / (1 << 20), 1),
        "bucket_s": round(parsed, 1),
        "total_s": round(time.perf_counter() - started, 1),
    }


def _count(per_cell: np.ndarray, cells: np.ndarray) -> None:
    per_cell += np.bincount(cells, minlength=len(per_cell))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.h5ad_study", description=__doc__)
    parser.add_argument("study_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    print(write_h5ad(args.study_dir, args.out, work_dir=args.out.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
