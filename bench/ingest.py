"""Ingest benchmark: the loader next to the engine's own file() ingest of the same entries, same run.

`python -m bench.ingest [--nnz N | --study DIR] [--out DIR]` synthesises a study (reused when present),
loads it with `python -m loader load` in a child process (wall time, peak RSS), then ingests the same
MatrixMarket entries with chDB's `INSERT INTO raw.matrix SELECT … FROM file(…)` in a fresh store, in another
child. The engine reads a copy of the body without the MatrixMarket header (its text formats cannot skip `%`
lines and a size line), made before the clock starts. `measure_ingest()` is what `python -m bench` calls.

`--h5ad` compares formats instead: the study is written once as an AnnData .h5ad (`bench.h5ad_study`: CSR,
float32, as CELLxGENE ships), then the loader loads the MatrixMarket directory and the .h5ad alternately,
each into a fresh store, `--rounds` times back to back, with the load average noted before each load.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.errors import BenchError
from bench.measure import run_child
from genostream.errors import GenostreamError

REPO = Path(__file__).resolve().parents[1]
MB = 1 << 20
ENGINE_SQL = """
    INSERT INTO raw.matrix (dataset, load_id, gene_index, cell_index, value)
    SELECT 'engine', 'file', c1, c2, c3
    FROM file({path}, 'CustomSeparated', 'c1 UInt32, c2 UInt32, c3 Float64')
    SETTINGS format_custom_field_delimiter = ' '
"""


def engine_child(body: Path, store: Path) -> None:
    """Run in a child process: the physical reference — the engine parses and inserts the file itself."""
    from clickhouse_connect.driver.binding import format_query_value

    from genostream.engine import open_chdb
    from loader import ensure_raw_schema

    client = open_chdb(store)
    ensure_raw_schema(client)
    started = time.perf_counter()
    client.command(ENGINE_SQL.format(path=format_query_value(str(body.resolve()))))
    seconds = time.perf_counter() - started
    rows = client.query("SELECT count() FROM raw.matrix").result_rows[0][0]
    print(json.dumps({"insert_s": seconds, "rows": rows}))


def _matrix_body(matrix: Path, out: Path) -> Path:
    """The entries of `matrix` without its header, uncompressed, for the engine's file() reader."""
    from loader import read_header

    header = read_header(matrix)
    opener = gzip.open if matrix.suffix == ".gz" else open
    with opener(matrix, "rb") as source, out.open("wb") as target:
        source.read(header.data_offset)
        shutil.copyfileobj(source, target, length=16 * MB)
    return out


def measure_ingest(
    study_dir: Path,
    *,
    store: Path,
    dataset: str,
    work_dir: Path,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Load `study_dir` into `store` as `dataset` (kept for later stages) and time the engine's reference."""
    from loader import check_study, read_header

    env = {**(env or os.environ), "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    work_dir.mkdir(parents=True, exist_ok=True)
    files = check_study(study_dir)
    header = read_header(files.matrix)
    matrix_mb = files.matrix.stat().st_size / MB

    cmd = [sys.executable, "-m", "loader", "load", str(study_dir), "--dataset", dataset, "--no-progress"]
    loader = run_child(cmd, log=work_dir / "loader.log", env=env, cwd=REPO)
    if loader.returncode != 0:
        raise BenchError(f"the loader failed: {loader.tail(2)}")

    body = _matrix_body(files.matrix, work_dir / "matrix.body.txt")
    engine_store = work_dir / "engine_store"
    shutil.rmtree(engine_store, ignore_errors=True)
    cmd = [sys.executable, "-m", "bench.ingest", "--engine-child", str(body), str(engine_store)]
    engine = run_child(cmd, log=work_dir / "engine.log", env=env, cwd=REPO)
    if engine.returncode != 0:
        raise BenchError(f"the engine's file() ingest failed: {engine.tail(2)}")
    engine_result = json.loads(engine.log.read_text().strip().splitlines()[-1])
    body.unlink()
    shutil.rmtree(engine_store, ignore_errors=True)

    nnz = header.n_entries
    return {
        "nnz": nnz,
        "n_genes": header.n_rows,
        "n_cells": header.n_cols,
        "matrix_mb": round(matrix_mb, 1),
        "loader_s": round(loader.wall_s, 2),
        "loader_rows_per_s": round(nnz / loader.wall_s),
        "loader_mb_per_s": round(matrix_mb / loader.wall_s, 1),
        "peak_rss_mb": round(loader.peak_rss_mb, 1),
        "engine_file_s": round(engine.wall_s, 2),
        "engine_insert_s": round(engine_result["insert_s"], 2),
        "engine_rows_per_s": round(nnz / engine.wall_s),
        "engine_peak_rss_mb": round(engine.peak_rss_mb, 1),
        "loader_vs_engine": round(loader.wall_s / engine.wall_s, 2),
        "loader_summary": loader.tail(1),
    }


def _load_child(source: Path, store: Path, log: Path, env: dict[str, str]) -> dict[str, Any]:
    """One `python -m loader load` of `source` into a fresh `store`: wall time, peak RSS, load average."""
    shutil.rmtree(store, ignore_errors=True)
    child_env = {**env, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    load_average = os.getloadavg()[0]
    cmd = [sys.executable, "-m", "loader", "load", str(source), "--dataset", "ingest", "--no-progress"]
    child = run_child(cmd, log=log, env=child_env, cwd=REPO)
    if child.returncode != 0:
        raise BenchError(f"the loader failed on {source}: {child.tail(2)}")
    shutil.rmtree(store, ignore_errors=True)
    return {
        "wall_s": round(child.wall_s, 2),
        "cpu_s": round(child.cpu_s, 1),
        "peak_rss_mb": round(child.peak_rss_mb, 1),
        "load_average_1m": round(load_average, 2),
        "summary": child.tail(1),
    }


def measure_h5ad_ingest(study_dir: Path, *, work_dir: Path, rounds: int = 2) -> dict[str, Any]:
    """The loader on the MatrixMarket study and on the same study as .h5ad, alternating, `rounds` times."""
    from bench.h5ad_study import write_h5ad

    work_dir.mkdir(parents=True, exist_ok=True)
    h5ad = work_dir / f"{study_dir.resolve().name}.h5ad"
    conversion: dict[str, Any] = {"reused": True}
    if not h5ad.exists():
        conversion = write_h5ad(study_dir, h5ad, work_dir=work_dir)
    runs: dict[str, list[dict[str, Any]]] = {"mtx": [], "h5ad": []}
    order = ["mtx", "h5ad"]
    for round_ in range(rounds):
        for kind in order if round_ % 2 == 0 else order[::-1]:
            source = study_dir if kind == "mtx" else h5ad
            log = work_dir / f"load_{kind}_{round_}.log"
            runs[kind].append(_load_child(source, work_dir / "store", log, dict(os.environ)))
    best = {kind: min(r["wall_s"] for r in results) for kind, results in runs.items()}
    cpu = {kind: min(r["cpu_s"] for r in results) for kind, results in runs.items()}
    return {
        "h5ad_file": str(h5ad),
        "h5ad_mb": round(h5ad.stat().st_size / MB, 1),
        "conversion": conversion,
        "runs": runs,
        "best_mtx_s": best["mtx"],
        "best_h5ad_s": best["h5ad"],
        "h5ad_vs_mtx": round(best["h5ad"] / best["mtx"], 2),
        "best_mtx_cpu_s": cpu["mtx"],
        "best_h5ad_cpu_s": cpu["h5ad"],
        "h5ad_vs_mtx_cpu": round(cpu["h5ad"] / cpu["mtx"], 2),
        "h5ad_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["h5ad"]),
        "mtx_peak_rss_mb": max(r["peak_rss_mb"] for r in runs["mtx"]),
    }


def _study_size(nnz: int) -> tuple[int, int]:
    """(cells, genes) at ~10% density, the shape of the reference study at 170M."""
    genes = 10_000 if nnz <= 50_000_000 else 25_000
    return max(1_000, math.ceil(nnz / (0.1 * genes))), genes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--nnz", type=int, default=20_000_000, help="non-zeros of the study (default 20M)")
    parser.add_argument("--out", type=Path, default=Path("bench_results/ingest"), help="output directory")
    parser.add_argument("--study", type=Path, help="an existing MatrixMarket study (instead of --nnz)")
    parser.add_argument("--h5ad", action="store_true", help="compare the loader on .mtx and on .h5ad")
    parser.add_argument("--rounds", type=int, default=2, help="--h5ad: loads of each format (default 2)")
    parser.add_argument("--engine-child", nargs=2, metavar=("BODY", "STORE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine_child:
        engine_child(Path(args.engine_child[0]), Path(args.engine_child[1]))
        return 0
    study = args.study or args.out / f"study_{args.nnz}"
    if args.study is None and not (study / ".complete").exists():
        cells, genes = _study_size(args.nnz)
        cmd = [
            sys.executable,
            "-m",
            "loader",
            "synth",
            str(study),
            "--cells",
            str(cells),
            "--genes",
            str(genes),
        ]
        cmd += ["--nnz", str(args.nnz), "--seed", "11"]
        synth = run_child(cmd, log=args.out / "synth.log", cwd=REPO)
        if synth.returncode != 0:
            print(f"bench.ingest: synth failed: {synth.tail(2)}", file=sys.stderr)
            return 1
        (study / ".complete").touch()
    store = args.out / "store"
    shutil.rmtree(store, ignore_errors=True)
    try:
        if args.h5ad:
            result = measure_h5ad_ingest(study, work_dir=args.out / "h5ad", rounds=args.rounds)
        else:
            result = measure_ingest(study, store=store, dataset="ingest", work_dir=args.out / "work")
    except (GenostreamError, OSError) as exc:
        print(f"bench.ingest: {exc}", file=sys.stderr)
        return 1
    name = "ingest_h5ad.json" if args.h5ad else "ingest.json"
    (args.out / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
