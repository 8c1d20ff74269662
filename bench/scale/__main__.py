"""`python -m bench.scale --out DIR [--sizes 20M,170M,500M,1000M] [--no-peers] [--peer-memory-gb 20]
[--peer-time-limit-min M]`.

Studies go to DIR/studies/<size> (reused), stores and logs to DIR/sizes/<size>, one record per finished step
to DIR/records (a rerun skips them), and DIR/results.json, results.md and results.png after every size.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.errors import BenchError
from bench.machine import machine_info
from bench.runner import log
from bench.scale import report
from bench.scale.records import Records
from bench.scale.sizes import DEFAULT_SIZES, GENES, NNZ_PER_CELL, label, parse_sizes
from bench.scale.steps import ScaleSettings, SizeRun
from genostream.engine import engine_errors
from genostream.errors import GenostreamError


def write_results(settings: ScaleSettings, records: Records, sizes: list[int]) -> None:
    results = report.collect(records, sizes, settings.steps, machine_info(), settings.described())
    out = settings.out
    (out / "results.json").write_text(json.dumps(results, indent=2, default=float) + "\n")
    (out / "results.md").write_text(report.render_markdown(results))
    try:
        report.render_chart(results, out / "results.png")
    except ImportError:
        log("no chart: matplotlib is not installed (pip install -e '.[bench]')")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument(
        "--out", type=Path, required=True, help="output directory (studies, records, results)"
    )
    parser.add_argument(
        "--sizes", default=DEFAULT_SIZES, help=f"non-zeros per study (default {DEFAULT_SIZES})"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip scanpy, DuckDB and TileDB-SOMA")
    parser.add_argument(
        "--peer-memory-gb", type=float, default=20.0, help="each peer's address-space limit (default 20)"
    )
    parser.add_argument(
        "--peer-time-limit-min",
        type=float,
        default=None,
        help="stop a peer after this many minutes and record that it did (default: no limit)",
    )
    parser.add_argument("--genes", type=int, default=GENES, help=f"genes per study (default {GENES})")
    parser.add_argument(
        "--nnz-per-cell", type=int, default=NNZ_PER_CELL, help=f"non-zeros per cell (default {NNZ_PER_CELL})"
    )
    parser.add_argument("--queries", type=int, default=100, help="HTTP requests per question (default 100)")
    parser.add_argument("--coexpression", type=int, default=20, help="co-expression requests (default 20)")
    parser.add_argument("--seed", type=int, default=42, help="the studies' random seed (default 42)")
    parser.add_argument("--keep-stores", action="store_true", help="keep each size's store (disk!)")
    args = parser.parse_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
        limit_min = args.peer_time_limit_min
        if args.peer_memory_gb <= 0 or args.queries < 1 or args.coexpression < 1 or (limit_min or 1) <= 0:
            raise BenchError(
                "--peer-memory-gb, --peer-time-limit-min, --queries and --coexpression must be positive"
            )
        settings = ScaleSettings(
            args.out.resolve(),
            genes=args.genes,
            nnz_per_cell=args.nnz_per_cell,
            seed=args.seed,
            queries=args.queries,
            coexpression=args.coexpression,
            peers=not args.no_peers,
            peer_memory_limit_mb=int(args.peer_memory_gb * 1024),
            peer_time_limit_s=limit_min * 60 if limit_min else None,
            keep_stores=args.keep_stores,
        )
        settings.pin()
        records = Records(settings.out / "records")
        failed = []
        for nnz in sizes:
            try:
                with engine_errors():
                    SizeRun(settings, nnz, records).execute()
            except GenostreamError as exc:
                log(f"{label(nnz)} stopped: {exc} (rerun to retry from that step)")
                failed.append(label(nnz))
            write_results(settings, records, sizes)
    except (GenostreamError, OSError) as exc:
        print(f"bench.scale: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.scale: interrupted (finished steps are recorded; rerun to resume)", file=sys.stderr)
        return 130
    log(f"wrote {settings.out}/results.json, results.md, results.png")
    if failed:
        print(f"bench.scale: sizes not finished: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
