"""`python -m bench [--preset small|seed] [--out DIR] [--study DIR] [--no-peers]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.presets import PRESETS
from bench.runner import Run, log
from genostream.engine import engine_errors
from genostream.errors import GenostreamError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--preset", choices=sorted(PRESETS), default="small", help="study size (default: small)"
    )
    parser.add_argument("--out", type=Path, help="output directory (default: bench_results/<preset>)")
    parser.add_argument("--study", type=Path, help="reuse (or create) the synthetic study in this directory")
    parser.add_argument("--no-peers", action="store_true", help="skip scanpy, DuckDB and TileDB-SOMA")
    args = parser.parse_args(argv)
    out = args.out or Path("bench_results") / args.preset
    try:
        with engine_errors():
            results = Run(PRESETS[args.preset], out, study_dir=args.study, peers=not args.no_peers).execute()
    except (GenostreamError, OSError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    log(f"wrote {out}/results.json, results.md, results.png in {results['total_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
