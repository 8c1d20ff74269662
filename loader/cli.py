"""`python -m loader`: load, list, drop, detect, synth — a failure is one line on stderr, exit non-zero."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from genostream.engine import engine_errors
from genostream.errors import EngineError, GenostreamError
from loader import LoadInterruptedError, check_study, drop_dataset, list_datasets, load_dataset

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loader", description=__doc__)
    add_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return parser


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add load, list, drop, detect and synth to `commands` (also the `genostream` command's subcommands);
    COMMANDS runs each."""
    load = commands.add_parser(
        "load",
        help="load a study (SCP or 10x directory, AnnData .h5ad, Cell Ranger .h5) as a dataset",
    )
    load.add_argument("data_dir", type=Path, nargs="?", metavar="DATA_DIR|FILE")
    load.add_argument("--dataset", help="dataset name (default: the directory's name, or the file's stem)")
    load.add_argument("--matrix", type=Path, help="MatrixMarket file (default: detected)")
    load.add_argument("--genes", type=Path, help="genes/features file (default: detected)")
    load.add_argument("--barcodes", type=Path, help="barcodes file (default: detected)")
    load.add_argument("--metadata", type=Path, help="Single Cell Portal metadata file (default: detected)")
    load.add_argument(
        "--layer",
        help="AnnData matrix: X, raw (raw/X) or a layers/ name (default: the first of X, raw/X, "
        "layers/counts that holds counts, else X)",
    )
    load.add_argument(
        "--cell-type-column",
        help="metadata (obs) column with the cell type (default: cell_type, Cluster, louvain or leiden)",
    )
    load.add_argument(
        "--sample-column", help="metadata (obs) column with the sample (default: donor_id, sample or Subject)"
    )
    load.add_argument(
        "--cluster",
        type=Path,
        action="append",
        metavar="FILE",
        help="Single Cell Portal cluster file (NAME, X, Y[, Z] with a TYPE row): cell coordinates kept as an "
        "embedding named after the file; repeatable (those beside a Portal study are found without it)",
    )
    bar = load.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="always show progress"
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show progress")

    listing = commands.add_parser("list", help="list the loaded datasets")
    listing.add_argument("--json", action="store_true", help="print a JSON list")

    drop = commands.add_parser("drop", help="remove a dataset")
    drop.add_argument("name", metavar="NAME")

    detect = commands.add_parser(
        "detect", help="exit 0 when DIR (or FILE) is a loadable study, print its layout and files"
    )
    detect.add_argument("data_dir", type=Path, metavar="DIR|FILE")

    synth = commands.add_parser("synth", help="write a synthetic study in Single Cell Portal layout")
    synth.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    synth.add_argument("--preset", choices=("demo", "seed"), help="sizes of a named study (flags override)")
    synth.add_argument("--cells", type=int, help="cells in the matrix")
    synth.add_argument("--genes", type=int, help="genes (rows)")
    synth.add_argument("--nnz", type=int, help="approximate number of non-zero entries")
    synth.add_argument("--seed", type=int, help="random seed")
    synth.add_argument("--gzip", action="store_true", help="write .gz files")


def _load(args: argparse.Namespace) -> None:
    from genostream.engine import get_client

    client = get_client()
    try:
        result = load_dataset(
            client,
            args.data_dir,
            dataset=args.dataset,
            matrix=args.matrix,
            genes=args.genes,
            barcodes=args.barcodes,
            metadata=args.metadata,
            layer=args.layer,
            cell_type_column=args.cell_type_column,
            sample_column=args.sample_column,
            clusters=args.cluster,
            progress=args.progress,
        )
    finally:
        client.close()
    print(result.summary())


def _list(args: argparse.Namespace) -> None:
    from genostream.engine import get_client

    client = get_client()
    try:
        datasets = list_datasets(client)
    finally:
        client.close()
    if args.json:
        print(json.dumps(datasets, indent=2))
        return
    if not datasets:
        print("no datasets loaded")
    for d in datasets:
        print(
            f"{d['name']}\t{d['value_kind']}\t{d['n_genes']} genes\t{d['n_cells']} cells\t"
            f"{d['nnz']} non-zeros\tloaded {d['loaded_at']}"
        )


def _drop(args: argparse.Namespace) -> None:
    from genostream.engine import get_client

    client = get_client()
    try:
        drop_dataset(client, args.name)
    finally:
        client.close()
    print(f"dropped {args.name}")


def _detect(args: argparse.Namespace) -> None:

    files = check_study(args.data_dir)
    print(f"{files.layout} study in {args.data_dir}")
    for role, path in files.roles():
        print(f"  {role}: {path}")
    for path in getattr(files, "clusters", ()):
        print(f"  cluster: {path}")


def _synth(args: argparse.Namespace) -> None:
    from loader.synth import SynthSpec, write_study

    spec = SynthSpec.from_options(
        preset=args.preset, cells=args.cells, genes=args.genes, nnz=args.nnz, seed=args.seed, gzip=args.gzip
    )
    print(write_study(args.out_dir, spec).summary())


COMMANDS = {"load": _load, "list": _list, "drop": _drop, "detect": _detect, "synth": _synth}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return run(COMMANDS[args.command], args)


def run(command: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> int:
    """Run one command: its expected failures become one line on stderr and a non-zero exit status."""
    try:
        with engine_errors():
            command(args)
    except EngineError as exc:
        print(f"error: the engine refused: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except GenostreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED if isinstance(exc, LoadInterruptedError) else EXIT_ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return 0
